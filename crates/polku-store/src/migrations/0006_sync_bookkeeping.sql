-- Polku store schema v6: sync bookkeeping in its own tables.
--
-- SHIPPED MIGRATION: DO NOT CHANGE THIS FILE. A test pins its hash. Add a new
-- migration instead.

-- Until v5 the sync layer kept its bookkeeping in sealed_kv under keys
-- `polku/sync/v1/...`, found by decrypting and scanning every key. From v6 it
-- has tables indexed by random ids (node ids, document ids) and positions;
-- every value stays sealed, and each row carries a write counter bound into
-- the rollback anchor (src/anchor.rs), like the other mutable rows. The rows
-- move out of sealed_kv at the first unlock after this migration (it needs
-- the keys; src/sync_book.rs).

-- Per peer: the document set agreed at the end of the last completed
-- session and the tombstone cursor.
CREATE TABLE sync_peers (
    peer   BLOB PRIMARY KEY NOT NULL CHECK (length(peer) = 32),
    record BLOB NOT NULL,        -- sealed
    ctr    INTEGER NOT NULL CHECK (ctr > 0)
) STRICT;

-- Per peer and document: the Automerge sync state.
CREATE TABLE sync_states (
    peer   BLOB NOT NULL CHECK (length(peer) = 32),
    doc_id BLOB NOT NULL CHECK (length(doc_id) = 16),
    state  BLOB NOT NULL,        -- sealed
    ctr    INTEGER NOT NULL CHECK (ctr > 0),
    PRIMARY KEY (peer, doc_id)
) STRICT;
CREATE INDEX sync_states_doc ON sync_states (doc_id);

-- Changes of ours a peer refused (quarantined = 0) and peers' documents
-- that could not be taken here (quarantined = 1).
CREATE TABLE sync_problems (
    peer        BLOB NOT NULL CHECK (length(peer) = 32),
    doc_id      BLOB NOT NULL CHECK (length(doc_id) = 16),
    quarantined INTEGER NOT NULL CHECK (quarantined IN (0, 1)),
    problem     BLOB NOT NULL,   -- sealed: reason, document kind, time
    ctr         INTEGER NOT NULL CHECK (ctr > 0),
    PRIMARY KEY (peer, doc_id, quarantined)
) STRICT;

-- The tombstone log, append-only, positions from 0.
CREATE TABLE sync_tombstones (
    pos       INTEGER PRIMARY KEY NOT NULL CHECK (pos >= 0),
    tombstone BLOB NOT NULL,     -- sealed: the signed tombstone
    ctr       INTEGER NOT NULL CHECK (ctr > 0)
) STRICT;

-- Hub: what it expects of each node's audit chain (pending = 1: seen in a
-- session that has not completed yet).
CREATE TABLE sync_audit_expect (
    node        BLOB NOT NULL CHECK (length(node) = 32),
    pending     INTEGER NOT NULL CHECK (pending IN (0, 1)),
    expectation BLOB NOT NULL,   -- sealed
    ctr         INTEGER NOT NULL CHECK (ctr > 0),
    PRIMARY KEY (node, pending)
) STRICT;
