"""A package exercising every dependency form the linker must resolve (imported only by tests)."""
