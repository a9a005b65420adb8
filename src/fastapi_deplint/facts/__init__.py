"""Per-file fact extraction (`ast` -> `ModuleFacts`)."""
