"""Unit tests of `core`."""
