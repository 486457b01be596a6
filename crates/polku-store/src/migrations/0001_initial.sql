-- Polku store schema v1 (initial).
--
-- SHIPPED MIGRATION: DO NOT CHANGE THIS FILE. Stores in the field were created
-- with exactly this text; a test pins its hash. Add a new migration instead.
--
-- Plaintext columns hold only random ids, kinds, sizes, hashes and counters.
-- Every column marked "sealed" holds a sealed envelope (see crypto.rs).

-- Schema and crypto metadata: format marker, store id, login lookup salt and
-- the age-encrypted data key. No personal data.
CREATE TABLE store_meta (
    key   TEXT PRIMARY KEY NOT NULL,
    value BLOB NOT NULL
) STRICT;

-- One row per local login: the store key wrapped by a key derived from the
-- user's password. `lookup` is a keyed hash of the normalised login name.
CREATE TABLE users (
    user_id     BLOB PRIMARY KEY NOT NULL CHECK (length(user_id) = 16),
    lookup      BLOB NOT NULL UNIQUE CHECK (length(lookup) = 32),
    kdf_alg     INTEGER NOT NULL,
    kdf_m_kib   INTEGER NOT NULL,
    kdf_t       INTEGER NOT NULL,
    kdf_p       INTEGER NOT NULL,
    kdf_salt    BLOB NOT NULL,
    wrapped_key BLOB NOT NULL,   -- sealed under the password-derived key
    login       BLOB NOT NULL    -- sealed under the data key
) STRICT;

-- One row per Automerge document: its latest full save (sealed) plus
-- plaintext sync metadata.
CREATE TABLE docs (
    id         BLOB PRIMARY KEY NOT NULL CHECK (length(id) = 16),
    kind       INTEGER NOT NULL,
    heads_hash BLOB NOT NULL CHECK (length(heads_hash) = 32),
    generation INTEGER NOT NULL,
    next_seq   INTEGER NOT NULL,
    snapshot   BLOB NOT NULL     -- sealed
) STRICT;
CREATE INDEX docs_by_kind ON docs (kind, id);

-- Incremental changes appended since the snapshot, applied in `seq` order.
CREATE TABLE doc_changes (
    doc_id BLOB NOT NULL REFERENCES docs (id) ON DELETE CASCADE,
    seq    INTEGER NOT NULL,
    change BLOB NOT NULL,        -- sealed
    PRIMARY KEY (doc_id, seq)
) STRICT;

-- Attachments live in attachments/<id> as age files; this row holds the
-- plaintext size and the sealed blake3 digest of the plaintext.
CREATE TABLE attachments (
    id     BLOB PRIMARY KEY NOT NULL CHECK (length(id) = 16),
    size   INTEGER NOT NULL,
    digest BLOB NOT NULL         -- sealed
) STRICT;
