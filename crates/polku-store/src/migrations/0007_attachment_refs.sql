-- Polku store schema v7: which document references which attachment.
--
-- SHIPPED MIGRATION: DO NOT CHANGE THIS FILE. A test pins its hash. Add a new
-- migration instead.

-- One row per attachment reference (AttachmentRef) in a client's record
-- document, kept by the caller whenever it writes the record's view: random
-- ids and the plaintext size only (the digest stays in the sealed document).
-- A reference without a row in `attachments` is a file this device still
-- has to fetch from a peer; the document id tells the hub whose scope the
-- file belongs to. Rows go with their document.
CREATE TABLE attachment_refs (
    attachment_id BLOB PRIMARY KEY NOT NULL CHECK (length(attachment_id) = 16),
    doc_id        BLOB NOT NULL CHECK (length(doc_id) = 16),
    size          INTEGER NOT NULL CHECK (size >= 0)
) STRICT;
CREATE INDEX attachment_refs_doc ON attachment_refs (doc_id);
