-- Search text in two tiers, so that what the public may match and read of
-- a record is decided when it is indexed (internal/disclosure):
-- public_text is a record's public form (no digests, file names, account
-- names, nothing of an item marked personal data); staff_text is what
-- signed-in staff may read. Victims' names and notes are in neither.
-- The index is rebuilt by groundtruth migrate (Reindex).

DROP TABLE search;

CREATE VIRTUAL TABLE search USING fts5(
    kind UNINDEXED,
    slug UNINDEXED,
    public_text,
    staff_text,
    tokenize = 'unicode61 remove_diacritics 2'
);
