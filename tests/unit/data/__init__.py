"""Unit tests of `data`."""
