//! Attachments: streamed age files in `attachments/<id>`.
//!
//! Each attachment is encrypted with age's streaming format to the store's
//! recipient (one X25519 operation per attachment, negligible for files),
//! written to a temporary file, fsynced and renamed into place; only then
//! is its row (plaintext size, sealed blake3 digest of the plaintext)
//! committed. Neither direction ever holds the whole file in memory.

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::iter;
use std::path::{Path, PathBuf};

use polku_core::AttachmentId;
use rusqlite::{OptionalExtension, params};
use uuid::Uuid;

use crate::Store;
use crate::crypto::{RowRef, Slot};
use crate::error::{Result, StoreError};
use crate::store::ATTACHMENTS_DIR;

const BUF_LEN: usize = 64 * 1024;
const TMP_PREFIX: &str = ".tmp-";

/// Plaintext size and digest of a stored attachment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttachmentInfo {
    /// The attachment's id (also its file name).
    pub id: AttachmentId,
    /// Plaintext size in bytes.
    pub size: u64,
    /// blake3 of the plaintext.
    pub blake3: [u8; 32],
}

/// Streaming reader of a decrypted attachment. At end of stream it checks
/// the size and digest recorded when the attachment was stored and fails
/// with [`io::ErrorKind::InvalidData`] if they differ.
pub struct AttachmentReader {
    inner: age::stream::StreamReader<BufReader<File>>,
    hasher: blake3::Hasher,
    read: u64,
    expected: AttachmentInfo,
    verified: bool,
}

impl fmt::Debug for AttachmentReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AttachmentReader")
            .field("id", &self.expected.id)
            .field("read", &self.read)
            .finish_non_exhaustive()
    }
}

impl AttachmentReader {
    /// What the store recorded for this attachment.
    pub fn info(&self) -> AttachmentInfo {
        self.expected
    }
}

impl Read for AttachmentReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n > 0 {
            self.hasher.update(&buf[..n]);
            self.read += n as u64;
            if self.read > self.expected.size {
                return Err(mismatch());
            }
        } else if !buf.is_empty() && !self.verified {
            if self.read != self.expected.size
                || *self.hasher.finalize().as_bytes() != self.expected.blake3
            {
                return Err(mismatch());
            }
            self.verified = true;
        }
        Ok(n)
    }
}

/// A temporary file, removed when dropped (unless taken).
#[derive(Debug)]
struct TmpFile(Option<PathBuf>);

impl Drop for TmpFile {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            let _ = fs::remove_file(path);
        }
    }
}

/// An attachment being written piece by piece ([`Store::begin_attachment`]).
/// Dropped without [`Store::finish_attachment`], it leaves nothing behind.
pub struct AttachmentWriter {
    id: AttachmentId,
    inner: age::stream::StreamWriter<BufWriter<File>>,
    hasher: blake3::Hasher,
    size: u64,
    tmp: TmpFile,
}

impl fmt::Debug for AttachmentWriter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AttachmentWriter")
            .field("id", &self.id)
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

impl AttachmentWriter {
    /// The attachment being written.
    pub fn id(&self) -> AttachmentId {
        self.id
    }

    /// Plaintext bytes written so far.
    pub fn written(&self) -> u64 {
        self.size
    }
}

/// Encrypts and appends what is written.
impl Write for AttachmentWriter {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(bytes)?;
        self.hasher.update(&bytes[..n]);
        self.size += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

fn mismatch() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        "attachment does not match its recorded digest",
    )
}

/// Read errors from a decrypting stream: authentication failures and
/// truncation are corruption, the rest stays an I/O error.
fn read_error(e: io::Error) -> StoreError {
    match e.kind() {
        io::ErrorKind::InvalidData | io::ErrorKind::UnexpectedEof => {
            StoreError::corrupt("attachment")
        }
        _ => e.into(),
    }
}

/// fsync a directory so a rename inside it is durable (no-op off Unix).
fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

impl Store {
    fn attachments_dir(&self) -> PathBuf {
        self.dir.join(ATTACHMENTS_DIR)
    }

    pub(crate) fn attachment_path(&self, id: AttachmentId) -> PathBuf {
        self.attachments_dir().join(id.to_string())
    }

    /// Encrypt and store everything `reader` yields as a new attachment
    /// with a fresh id.
    pub fn put_attachment(&self, reader: impl Read) -> Result<AttachmentInfo> {
        self.put_attachment_with_id(AttachmentId::new(), reader)
    }

    /// Like [`Store::put_attachment`] with a given id (e.g. one received
    /// from a peer).
    pub fn put_attachment_with_id(
        &self,
        id: AttachmentId,
        mut reader: impl Read,
    ) -> Result<AttachmentInfo> {
        let mut writer = self.begin_attachment(id)?;
        io::copy(&mut reader, &mut writer)?;
        self.finish_attachment(writer, None)
    }

    /// Start storing attachment `id` piece by piece (e.g. as its chunks
    /// arrive from a peer): encrypted into a temporary file as written;
    /// nothing is visible until [`Store::finish_attachment`]. Dropping the
    /// writer removes the temporary file.
    pub fn begin_attachment(&self, id: AttachmentId) -> Result<AttachmentWriter> {
        let dir = self.attachments_dir();
        fs::create_dir_all(&dir)?;
        if self.attachment_path(id).exists() || self.attachment_row(id)?.is_some() {
            return Err(StoreError::AttachmentExists(id));
        }
        let tmp = dir.join(format!(
            "{TMP_PREFIX}{}",
            uuid::Builder::from_random_bytes(crate::crypto::random_bytes())
                .into_uuid()
                .simple()
        ));
        let file = OpenOptions::new().write(true).create_new(true).open(&tmp)?;
        let guard = TmpFile(Some(tmp));
        let recipient = self.keys.identity.to_public();
        let encryptor =
            age::Encryptor::with_recipients(iter::once(&recipient as &dyn age::Recipient))
                .map_err(|_| StoreError::InvalidInput {
                    what: "cannot encrypt to the store key",
                })?;
        let inner = encryptor.wrap_output(BufWriter::with_capacity(BUF_LEN, file))?;
        Ok(AttachmentWriter {
            id,
            inner,
            hasher: blake3::Hasher::new(),
            size: 0,
            tmp: guard,
        })
    }

    /// Complete an attachment begun with [`Store::begin_attachment`]. With
    /// `expected` (size, blake3 of the plaintext) anything else is refused
    /// with [`StoreError::AttachmentMismatch`] and nothing is stored; then
    /// the file is fsynced, renamed into place and its row committed.
    pub fn finish_attachment(
        &self,
        writer: AttachmentWriter,
        expected: Option<(u64, [u8; 32])>,
    ) -> Result<AttachmentInfo> {
        let AttachmentWriter {
            id,
            inner,
            hasher,
            size,
            mut tmp,
        } = writer;
        let blake3 = *hasher.finalize().as_bytes();
        if let Some(expected) = expected
            && expected != (size, blake3)
        {
            return Err(StoreError::AttachmentMismatch(id));
        }
        let file = inner
            .finish()?
            .into_inner()
            .map_err(|e| StoreError::from(e.into_error()))?;
        file.sync_all()?;
        drop(file);
        let dir = self.attachments_dir();
        let path = self.attachment_path(id);
        if path.exists() {
            return Err(StoreError::AttachmentExists(id));
        }
        let Some(tmp_path) = tmp.0.take() else {
            return Err(StoreError::corrupt("attachment writer"));
        };
        if let Err(e) = fs::rename(&tmp_path, &path).and_then(|()| sync_dir(&dir)) {
            let _ = fs::remove_file(&tmp_path);
            return Err(e.into());
        }
        let info = AttachmentInfo { id, size, blake3 };
        if let Err(e) = self.insert_attachment_row(&info) {
            let _ = fs::remove_file(&path);
            return Err(e);
        }
        Ok(info)
    }

    fn insert_attachment_row(&self, info: &AttachmentInfo) -> Result<()> {
        let raw_id = info.id.as_bytes();
        let digest = self.keys.seal.seal(
            RowRef::new(Slot::AttachmentDigest, raw_id).seq(info.size),
            &info.blake3,
        )?;
        let tx = self.write_tx()?;
        let n = tx.execute(
            "INSERT INTO attachments (id, size, digest) VALUES (?1, ?2, ?3)
             ON CONFLICT (id) DO NOTHING",
            params![raw_id.as_slice(), info.size as i64, digest],
        )?;
        if n == 0 {
            return Err(StoreError::AttachmentExists(info.id));
        }
        tx.commit()?;
        Ok(())
    }

    fn attachment_row(&self, id: AttachmentId) -> Result<Option<AttachmentInfo>> {
        let raw_id = id.as_bytes();
        let row: Option<(i64, Vec<u8>)> = self
            .conn
            .prepare_cached("SELECT size, digest FROM attachments WHERE id = ?1")?
            .query_row([raw_id.as_slice()], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let Some((size, sealed)) = row else {
            return Ok(None);
        };
        let size = u64::try_from(size).map_err(|_| StoreError::corrupt("attachment size"))?;
        let digest = self.keys.seal.open(
            RowRef::new(Slot::AttachmentDigest, raw_id).seq(size),
            &sealed,
            "attachment digest",
        )?;
        let blake3 = digest
            .try_into()
            .map_err(|_| StoreError::corrupt("attachment digest"))?;
        Ok(Some(AttachmentInfo { id, size, blake3 }))
    }

    /// Size and digest of an attachment.
    pub fn attachment_info(&self, id: AttachmentId) -> Result<AttachmentInfo> {
        self.attachment_row(id)?
            .ok_or(StoreError::AttachmentNotFound(id))
    }

    /// Open an attachment for streaming decryption.
    pub fn open_attachment(&self, id: AttachmentId) -> Result<AttachmentReader> {
        let expected = self.attachment_info(id)?;
        let file = match File::open(self.attachment_path(id)) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(StoreError::corrupt("attachment file missing"));
            }
            Err(e) => return Err(e.into()),
        };
        let decryptor = age::Decryptor::new_buffered(BufReader::with_capacity(BUF_LEN, file))
            .map_err(|_| StoreError::corrupt("attachment"))?;
        let inner = decryptor
            .decrypt(iter::once(&self.keys.identity as &dyn age::Identity))
            .map_err(|_| StoreError::corrupt("attachment"))?;
        Ok(AttachmentReader {
            inner,
            hasher: blake3::Hasher::new(),
            read: 0,
            expected,
            verified: false,
        })
    }

    /// Decrypt an attachment into `out`, verifying its size and digest.
    /// Returns its info. On [`StoreError::Corrupt`] `out` may have received
    /// a prefix of the data.
    pub fn read_attachment(&self, id: AttachmentId, mut out: impl Write) -> Result<AttachmentInfo> {
        let mut reader = self.open_attachment(id)?;
        let mut buf = vec![0u8; BUF_LEN];
        loop {
            let n = match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(read_error(e)),
            };
            out.write_all(&buf[..n])?;
        }
        out.flush()?;
        Ok(reader.info())
    }

    /// Delete an attachment's row, then its file. Returns whether it existed.
    pub fn delete_attachment(&self, id: AttachmentId) -> Result<bool> {
        let tx = self.write_tx()?;
        let n = tx.execute(
            "DELETE FROM attachments WHERE id = ?1",
            [id.as_bytes().as_slice()],
        )?;
        tx.commit()?;
        match fs::remove_file(self.attachment_path(id)) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e.into()),
        }
        Ok(n > 0)
    }

    /// Ids of all attachments.
    pub fn list_attachments(&self) -> Result<Vec<AttachmentId>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id FROM attachments ORDER BY id")?;
        let rows = stmt.query_map([], |r| r.get::<_, Vec<u8>>(0))?;
        rows.map(|r| {
            Uuid::from_slice(&r?)
                .map(AttachmentId)
                .map_err(|_| StoreError::corrupt("attachment id"))
        })
        .collect()
    }

    /// Remove leftovers of interrupted writes: temporary files and files
    /// without a row. Run it when no other process uses the store. Returns
    /// how many files were removed.
    pub fn sweep_attachments(&self) -> Result<usize> {
        let dir = self.attachments_dir();
        let entries = match fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(e.into()),
        };
        let mut removed = 0;
        for entry in entries {
            let entry = entry?;
            let name = entry.file_name();
            let name = name.to_string_lossy();
            let orphan = if name.starts_with(TMP_PREFIX) {
                true
            } else if let Ok(id) = name.parse::<AttachmentId>() {
                self.attachment_row(id)?.is_none()
            } else {
                false
            };
            if orphan {
                fs::remove_file(entry.path())?;
                removed += 1;
            }
        }
        Ok(removed)
    }
}
