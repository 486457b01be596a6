-- Polku store schema v5: write counters and the rollback anchor.
--
-- SHIPPED MIGRATION: DO NOT CHANGE THIS FILE. A test pins its hash. Add a new
-- migration instead.

-- Rows overwritten in place carry the store-wide write counter of their last
-- write, which is part of their sealed associated data (src/anchor.rs). 0 =
-- written before this migration; such rows are re-sealed with a fresh
-- counter at the first unlock after it (it needs the keys).
ALTER TABLE search_index ADD COLUMN ctr INTEGER NOT NULL DEFAULT 0 CHECK (ctr >= 0);
ALTER TABLE sealed_kv ADD COLUMN ctr INTEGER NOT NULL DEFAULT 0 CHECK (ctr >= 0);
ALTER TABLE doc_views ADD COLUMN ctr INTEGER NOT NULL DEFAULT 0 CHECK (ctr >= 0);
-- Documents: bumped by every change to the row (created, change appended,
-- compacted); their anchor tag also binds heads_hash, generation and next_seq.
ALTER TABLE docs ADD COLUMN ctr INTEGER NOT NULL DEFAULT 0 CHECK (ctr >= 0);

-- Narrow covering indexes for the check at unlock, which reads only ids,
-- counters and document state: without them it would walk the overflow
-- pages of every large snapshot and view (the new columns come after the
-- blob). Index entries and sealed values are small rows without overflow
-- pages; an index would only slow their writes down.
CREATE INDEX docs_anchor ON docs (id, ctr, heads_hash, generation, next_seq);
CREATE INDEX doc_views_anchor ON doc_views (doc_id, ctr);

-- One row: the highest write counter handed out and, sealed under it, the
-- XOR over all live documents and mutable rows of a keyed hash of (slot, id,
-- counter[, document state]).
-- Written at the first unlock after this migration, then in the same
-- transaction as every put and delete of a mutable row.
CREATE TABLE rollback_anchor (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    counter INTEGER NOT NULL CHECK (counter >= 0),
    anchor  BLOB NOT NULL        -- sealed
) STRICT;
