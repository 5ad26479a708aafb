-- Account changes are logged with why they were made: who (user_name),
-- what (action), whom (subject), when (at) and why (reason). Entries
-- written before this version have no reason.
--
-- From this version every access-log entry, and every change of an
-- account or an API token, writes a ledger leaf in the same transaction
-- (see internal/ledger), so that a row edited, added or deleted behind
-- groundtruth's back is named by verify.

ALTER TABLE access_log ADD COLUMN reason TEXT NOT NULL DEFAULT '';
