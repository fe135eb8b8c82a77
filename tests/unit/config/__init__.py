"""Unit tests of `config`."""
