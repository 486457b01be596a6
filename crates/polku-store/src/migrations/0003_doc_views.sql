-- Polku store schema v3: sealed materialised views of documents.
--
-- SHIPPED MIGRATION: DO NOT CHANGE THIS FILE. A test pins its hash. Add a new
-- migration instead.

-- The caller's decoded form of a document (e.g. a serialised client), sealed,
-- valid only while `heads_hash` equals `docs.heads_hash`: reading every client
-- then costs a decryption and a decode instead of an Automerge load. A stale
-- view is ignored and rebuilt by the caller.
CREATE TABLE doc_views (
    doc_id     BLOB PRIMARY KEY NOT NULL REFERENCES docs (id) ON DELETE CASCADE,
    heads_hash BLOB NOT NULL CHECK (length(heads_hash) = 32),
    view       BLOB NOT NULL         -- sealed
) STRICT;
