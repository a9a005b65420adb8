"""Linking per-file facts into the whole-project dependency graph."""
