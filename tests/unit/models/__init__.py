"""Unit tests of `models`."""
