"""The knowledge base: the help centre's facts and articles, their chunks, the vector index and retrieval."""
