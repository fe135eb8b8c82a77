"""Unit tests of `cli`."""
