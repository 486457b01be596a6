-- Polku store schema v2: encrypted search index and sealed key/value area.
--
-- SHIPPED MIGRATION: DO NOT CHANGE THIS FILE. A test pins its hash. Add a new
-- migration instead.

-- One opaque, sealed index entry per document (the caller's serialised
-- search-index entry); decrypted into memory at unlock.
CREATE TABLE search_index (
    doc_id BLOB PRIMARY KEY NOT NULL REFERENCES docs (id) ON DELETE CASCADE,
    entry  BLOB NOT NULL         -- sealed
) STRICT;

-- Small sealed blobs (e.g. per-peer sync states). The key is stored only as
-- a keyed hash (for lookup) and sealed (for listing).
CREATE TABLE sealed_kv (
    key_hash BLOB PRIMARY KEY NOT NULL CHECK (length(key_hash) = 32),
    key      BLOB NOT NULL,      -- sealed
    value    BLOB NOT NULL       -- sealed
) STRICT;
