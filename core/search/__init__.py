"""Search over stored insights: query syntax, full-text per database, fusion with embeddings,
and the approximate nearest-neighbour index kept in step with the database."""
