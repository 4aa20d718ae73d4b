"""Test support: the pytest plugin (real servers) and helpers."""
