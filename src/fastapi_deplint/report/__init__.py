"""Output formats for findings and for the dependency graph."""
