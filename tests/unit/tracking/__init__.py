"""Unit tests of `tracking`."""
