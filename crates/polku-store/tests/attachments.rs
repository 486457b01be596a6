//! Attachments stream through age without being held in memory.

mod common;

use std::fs;
use std::io::{self, Read, Write};

use common::*;
use polku_core::AttachmentId;
use polku_store::{ATTACHMENTS_DIR, Store, StoreError};

/// Deterministic, incompressible bytes produced on demand.
struct Generator {
    left: u64,
    state: u64,
}

impl Generator {
    fn new(len: u64) -> Self {
        Generator {
            left: len,
            state: 0x9E37_79B9_7F4A_7C15,
        }
    }
}

impl Read for Generator {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        // Odd-sized reads exercise the chunking.
        let n = buf.len().min(self.left as usize).min(10_007);
        for b in &mut buf[..n] {
            self.state ^= self.state << 13;
            self.state ^= self.state >> 7;
            self.state ^= self.state << 17;
            *b = self.state as u8;
        }
        self.left -= n as u64;
        Ok(n)
    }
}

/// A writer that only hashes and counts.
#[derive(Default)]
struct HashSink {
    hasher: blake3::Hasher,
    len: u64,
}

impl Write for HashSink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.hasher.update(buf);
        self.len += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

const LEN: u64 = 5 * 1024 * 1024 + 12_345;

fn expected_hash() -> [u8; 32] {
    let mut sink = HashSink::default();
    io::copy(&mut Generator::new(LEN), &mut sink).expect("copy");
    *sink.hasher.finalize().as_bytes()
}

#[test]
fn multi_mib_stream_round_trip_with_matching_blake3() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, _) = new_store(dir.path());
    let info = store.put_attachment(Generator::new(LEN)).expect("put");
    assert_eq!(info.size, LEN);
    assert_eq!(info.blake3, expected_hash());
    assert_eq!(store.attachment_info(info.id).expect("info"), info);

    let path = dir.path().join(ATTACHMENTS_DIR).join(info.id.to_string());
    let on_disk = fs::metadata(&path).expect("file").len();
    // age: header + 16-byte tag per 64 KiB chunk, nothing more.
    assert!(on_disk > LEN && on_disk < LEN + 2048, "{on_disk}");
    // No temporary files left behind.
    assert_eq!(
        fs::read_dir(dir.path().join(ATTACHMENTS_DIR))
            .expect("dir")
            .count(),
        1
    );

    let mut sink = HashSink::default();
    let read = store.read_attachment(info.id, &mut sink).expect("read");
    assert_eq!(read, info);
    assert_eq!(sink.len, LEN);
    assert_eq!(*sink.hasher.finalize().as_bytes(), info.blake3);

    // Streaming reader, small reads.
    let mut reader = store.open_attachment(info.id).expect("open");
    let mut sink = HashSink::default();
    let mut buf = [0u8; 1000];
    loop {
        let n = reader.read(&mut buf).expect("read");
        if n == 0 {
            break;
        }
        sink.write_all(&buf[..n]).expect("sink");
    }
    assert_eq!(*sink.hasher.finalize().as_bytes(), info.blake3);

    // Still readable after reopening.
    store.close().expect("close");
    let store = Store::unlock(dir.path(), LOGIN, PASSWORD).expect("unlock");
    let mut sink = HashSink::default();
    store.read_attachment(info.id, &mut sink).expect("read");
    assert_eq!(sink.len, LEN);
    assert_eq!(store.list_attachments().expect("list"), vec![info.id]);
}

#[test]
fn tampered_or_truncated_attachment_is_corrupt() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, _) = new_store(dir.path());
    let info = store.put_attachment(Generator::new(300_000)).expect("put");
    let path = dir.path().join(ATTACHMENTS_DIR).join(info.id.to_string());
    let original = fs::read(&path).expect("read");

    let mut flipped = original.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 1;
    fs::write(&path, &flipped).expect("write");
    assert!(matches!(
        store.read_attachment(info.id, io::sink()),
        Err(StoreError::Corrupt { .. })
    ));

    fs::write(&path, &original[..original.len() - 100]).expect("truncate");
    assert!(matches!(
        store.read_attachment(info.id, io::sink()),
        Err(StoreError::Corrupt { .. })
    ));

    fs::write(&path, b"garbage").expect("garbage");
    assert!(matches!(
        store.read_attachment(info.id, io::sink()),
        Err(StoreError::Corrupt { .. })
    ));

    // Another attachment's (valid) file under this id: digest mismatch.
    let other = store.put_attachment(Generator::new(1000)).expect("put");
    let other_path = dir.path().join(ATTACHMENTS_DIR).join(other.id.to_string());
    fs::copy(&other_path, &path).expect("copy");
    assert!(matches!(
        store.read_attachment(info.id, io::sink()),
        Err(StoreError::Corrupt { .. })
    ));

    fs::remove_file(&path).expect("rm");
    assert!(matches!(
        store.read_attachment(info.id, io::sink()),
        Err(StoreError::Corrupt { .. })
    ));
}

#[test]
fn delete_missing_and_duplicate_attachments() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, _) = new_store(dir.path());
    let id = AttachmentId::new();
    assert!(matches!(
        store.read_attachment(id, io::sink()),
        Err(StoreError::AttachmentNotFound(e)) if e == id
    ));
    let info = store
        .put_attachment_with_id(id, &b"small"[..])
        .expect("put");
    assert_eq!(info.size, 5);
    assert!(matches!(
        store.put_attachment_with_id(id, &b"again"[..]),
        Err(StoreError::AttachmentExists(_))
    ));
    let empty = store.put_attachment(io::empty()).expect("empty");
    let mut out = Vec::new();
    store.read_attachment(empty.id, &mut out).expect("read");
    assert!(out.is_empty());

    assert!(store.delete_attachment(id).expect("delete"));
    assert!(!store.delete_attachment(id).expect("again"));
    assert!(
        !dir.path()
            .join(ATTACHMENTS_DIR)
            .join(id.to_string())
            .exists()
    );
    assert!(matches!(
        store.attachment_info(id),
        Err(StoreError::AttachmentNotFound(_))
    ));
}

#[test]
fn a_failing_reader_leaves_nothing_behind() {
    struct Failing(u32);
    impl Read for Failing {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.0 == 0 {
                return Err(io::Error::other("source failed"));
            }
            self.0 -= 1;
            buf[0] = 1;
            Ok(1)
        }
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, _) = new_store(dir.path());
    assert!(matches!(
        store.put_attachment(Failing(3)),
        Err(StoreError::Io(_))
    ));
    assert_eq!(
        fs::read_dir(dir.path().join(ATTACHMENTS_DIR))
            .expect("dir")
            .count(),
        0
    );
    assert!(store.list_attachments().expect("list").is_empty());

    // Orphans from a crash between rename and commit are swept.
    fs::write(
        dir.path()
            .join(ATTACHMENTS_DIR)
            .join(AttachmentId::new().to_string()),
        b"x",
    )
    .expect("orphan");
    fs::write(dir.path().join(ATTACHMENTS_DIR).join(".tmp-abc"), b"x").expect("tmp");
    let kept = store.put_attachment(&b"kept"[..]).expect("put");
    assert_eq!(store.sweep_attachments().expect("sweep"), 2);
    store.read_attachment(kept.id, io::sink()).expect("kept");
}

fn tmp_files(dir: &std::path::Path) -> usize {
    fs::read_dir(dir.join(ATTACHMENTS_DIR))
        .map(|d| d.count())
        .unwrap_or(0)
}

#[test]
fn an_attachment_written_in_pieces_is_stored_only_when_it_matches() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, _) = new_store(dir.path());
    let bytes: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let digest = *blake3::hash(&bytes).as_bytes();

    // The right size and digest: stored, and reads back.
    let id = AttachmentId::new();
    let mut w = store.begin_attachment(id).expect("begin");
    for piece in bytes.chunks(65_536) {
        w.write_all(piece).expect("write");
    }
    assert_eq!(w.written(), bytes.len() as u64);
    let info = store
        .finish_attachment(w, Some((bytes.len() as u64, digest)))
        .expect("finish");
    assert_eq!(info.blake3, digest);
    let mut back = Vec::new();
    store.read_attachment(id, &mut back).expect("read");
    assert_eq!(back, bytes);

    // A wrong digest (one byte changed): refused, nothing left behind.
    let other = AttachmentId::new();
    let mut w = store.begin_attachment(other).expect("begin");
    let mut changed = bytes.clone();
    changed[1000] ^= 1;
    w.write_all(&changed).expect("write");
    assert!(matches!(
        store.finish_attachment(w, Some((bytes.len() as u64, digest))),
        Err(StoreError::AttachmentMismatch(i)) if i == other
    ));
    // A wrong size: refused too.
    let mut w = store.begin_attachment(other).expect("begin");
    w.write_all(&bytes[..10]).expect("write");
    assert!(matches!(
        store.finish_attachment(w, Some((bytes.len() as u64, digest))),
        Err(StoreError::AttachmentMismatch(_))
    ));
    // An abandoned writer leaves no file.
    let w = store.begin_attachment(other).expect("begin");
    drop(w);
    assert_eq!(store.list_attachments().expect("list"), vec![id]);
    assert_eq!(tmp_files(dir.path()), 1);
    assert!(matches!(
        store.attachment_info(other),
        Err(StoreError::AttachmentNotFound(_))
    ));
    // An id already stored cannot be begun again.
    assert!(matches!(
        store.begin_attachment(id),
        Err(StoreError::AttachmentExists(_))
    ));
}

#[test]
fn attachment_references_tell_what_is_wanted_and_go_with_their_document() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, _) = new_store(dir.path());
    let doc = doc_id();
    store
        .create_doc(
            doc,
            polku_core::DocKind::ClientRecord,
            &sample_doc("x").save(),
        )
        .expect("doc");
    let held = store.put_attachment(&b"held"[..]).expect("put");
    let missing = AttachmentId::new();
    let removed = store
        .set_attachment_refs(doc, &[(held.id, 4), (missing, 9)])
        .expect("refs");
    assert!(removed.is_empty());
    let wanted = store.wanted_attachments(10).expect("wanted");
    assert_eq!(wanted.len(), 1);
    assert_eq!(
        (wanted[0].id, wanted[0].doc, wanted[0].size),
        (missing, doc, 9)
    );
    assert_eq!(store.attachment_doc(missing).expect("doc"), Some((doc, 9)));
    assert_eq!(store.wanted_attachments(0).expect("wanted"), vec![]);

    // A reference dropped from the document is returned for deletion.
    let removed = store
        .set_attachment_refs(doc, &[(missing, 9)])
        .expect("refs");
    assert_eq!(removed, vec![held.id]);
    let mut refs = store.attachments_of_doc(doc).expect("of doc");
    refs.sort();
    assert_eq!(refs, vec![missing]);

    // Another document cannot take over a reference.
    let other = doc_id();
    store
        .set_attachment_refs(other, &[(missing, 1)])
        .expect("refs");
    assert_eq!(store.attachment_doc(missing).expect("doc"), Some((doc, 9)));

    // Deleting the document forgets its references.
    assert!(store.delete_doc(doc).expect("delete"));
    assert!(store.attachments_of_doc(doc).expect("of doc").is_empty());
    assert!(store.wanted_attachments(10).expect("wanted").is_empty());
}
