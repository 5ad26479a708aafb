-- What groundtruth derives from each original to find its copies: the
-- outcome of the analysis, the metadata the file carries, perceptual
-- hashes, derived files such as keyframes, and the links found between
-- near-duplicates. All of it can be recomputed from the original, so
-- re-analysing an original replaces its rows; the original itself and its
-- evidence record are never touched.

CREATE TABLE media (
    sha256      TEXT PRIMARY KEY REFERENCES blobs (sha256),
    kind        TEXT NOT NULL,              -- image, video or other
    status      TEXT NOT NULL,              -- analysed or failed
    error       TEXT NOT NULL DEFAULT '',   -- why the analysis failed, one line
    metadata    TEXT NOT NULL DEFAULT '{}', -- JSON: EXIF or the ffprobe summary
    probe       TEXT NOT NULL DEFAULT '',   -- ffprobe's JSON output, verbatim
    tools       TEXT NOT NULL DEFAULT '',   -- versions of the tools that ran
    thumb       BLOB,                       -- images: a small luma thumbnail for the crop stage
    analysed_at TEXT NOT NULL
);

-- PDQ hashes: kind "pdq" is the plain hash any PDQ user computes; other
-- kinds are groundtruth's own additions (trimmed borders, crops); video
-- frames have their time in seconds.
CREATE TABLE media_hashes (
    -- AUTOINCREMENT: ids are never reused, so that an index catching up
    -- from the highest id it has seen misses nothing after a re-analysis
    -- deleted the newest rows.
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    sha256  TEXT    NOT NULL REFERENCES media (sha256),
    kind    TEXT    NOT NULL,
    seconds REAL,
    hash    BLOB    NOT NULL, -- 32 bytes, most significant first
    quality INTEGER NOT NULL
);

CREATE INDEX media_hashes_sha256 ON media_hashes (sha256);

-- Files derived from an original and kept in the locker (keyframes).
CREATE TABLE media_files (
    sha256  TEXT NOT NULL REFERENCES media (sha256),
    role    TEXT NOT NULL,
    file    TEXT NOT NULL, -- digest of the derived file in the locker
    seconds REAL,
    PRIMARY KEY (sha256, role, file)
);

-- Near-duplicates: original a was found to match original b when a was
-- analysed. For video, the share of a's frames found in b and of b's in a.
CREATE TABLE media_links (
    a            TEXT    NOT NULL REFERENCES media (sha256),
    b            TEXT    NOT NULL REFERENCES media (sha256),
    distance     INTEGER NOT NULL,
    transform    TEXT    NOT NULL,
    a_percent    REAL,
    b_percent    REAL,
    found_at     TEXT    NOT NULL,
    PRIMARY KEY (a, b)
);

CREATE INDEX media_links_b ON media_links (b);
