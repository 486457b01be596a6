-- Polku store schema v9: per-peer changes to the agreed document set, and
-- the documents by write counter.
--
-- SHIPPED MIGRATION: DO NOT CHANGE THIS FILE. A test pins its hash. Add a new
-- migration instead.

-- A session that changes a few entries of a large agreed set appends them
-- here instead of rewriting the peer's whole record in sync_peers; the
-- record is the one in sync_peers with these applied in order, and is
-- written whole again (and these deleted) once they add up. Values sealed,
-- counters bound into the rollback anchor like the other bookkeeping rows.
CREATE TABLE sync_peer_deltas (
    peer  BLOB NOT NULL CHECK (length(peer) = 32),
    seq   INTEGER NOT NULL CHECK (seq >= 0),
    delta BLOB NOT NULL,         -- sealed
    ctr   INTEGER NOT NULL CHECK (ctr > 0),
    PRIMARY KEY (peer, seq)
) STRICT;

-- Every sync session starts from every document's id, kind and heads hash;
-- a replica that listed them once follows the store by the documents
-- written since (docs.ctr above what it saw), found from this index.
CREATE INDEX docs_written ON docs (ctr, id, kind, heads_hash);
