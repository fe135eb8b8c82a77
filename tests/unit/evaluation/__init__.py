"""Unit tests of `evaluation`."""
