"""Unit tests of `serving`."""
