"""Unit tests of `registry`."""
