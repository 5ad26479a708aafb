-- Full-text search over the records' text, Unicode-aware (Armenian,
-- Azerbaijani, Cyrillic: case folding and diacritics removed). SQLite FTS5;
-- the PostgreSQL schema will use its own text search for the same queries.
-- Personal data (victims' names and notes) is never indexed.

CREATE VIRTUAL TABLE search USING fts5(
    kind UNINDEXED,
    slug UNINDEXED,
    body,
    tokenize = 'unicode61 remove_diacritics 2'
);
