"""Vector index adapters (the VectorIndex port)."""
