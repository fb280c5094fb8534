"""PostgreSQL-only speed-ups: psycopg is imported inside, so a SQLite deployment never loads it."""
