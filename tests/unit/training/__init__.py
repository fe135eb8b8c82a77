"""Unit tests of `training`."""
