"""Unit tests of `monitoring`."""
