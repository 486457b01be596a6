-- Polku store schema v4: the audit log and failed logins.
--
-- SHIPPED MIGRATION: DO NOT CHANGE THIS FILE. A test pins its hash. Add a new
-- migration instead.

-- The signed, hash-chained audit log entries of every node (this node's own
-- chain and, on the hub, the union of all chains), one opaque encoded entry
-- per (node, seq). Append-only: the store has no API to update or delete a
-- row, not even on erasure (entries hold only random ids). `node` is the
-- node's ed25519 public key.
CREATE TABLE audit_entries (
    node  BLOB NOT NULL CHECK (length(node) = 32),
    seq   INTEGER NOT NULL CHECK (seq >= 0),
    entry BLOB NOT NULL,         -- sealed
    PRIMARY KEY (node, seq)
) STRICT, WITHOUT ROWID;

-- Failed logins, recorded before unlock when no key is available: only a
-- time, the random user id (NULL for an unknown login name) and a reason
-- code (1 wrong password, 2 unknown user, 3 throttled). Folded into the
-- signed audit chain after the next successful unlock, then deleted. The
-- rows present are the consecutive failures since then (login backoff).
CREATE TABLE auth_failures (
    id      INTEGER PRIMARY KEY,
    time_ms INTEGER NOT NULL,
    user_id BLOB CHECK (user_id IS NULL OR length(user_id) = 16),
    reason  INTEGER NOT NULL
) STRICT;
