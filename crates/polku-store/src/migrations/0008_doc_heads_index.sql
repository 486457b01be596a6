-- Polku store schema v8: a covering index of the documents' plaintext sync
-- metadata.
--
-- SHIPPED MIGRATION: DO NOT CHANGE THIS FILE. A test pins its hash. Add a new
-- migration instead.

-- Every sync session lists every document's id, kind and heads hash. The
-- `docs` rows also hold each document's snapshot, so that scan read a page
-- or more per document; from this index it reads only the index pages.
CREATE INDEX docs_heads ON docs (id, kind, heads_hash);
