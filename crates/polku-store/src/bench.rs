//! Baselines for benchmarks (polku-bench; cargo feature `bench-internals`,
//! never in the shipped binary).
//!
//! They read exactly the rows [`Store::load_all`] reads, so a benchmark can
//! split "open and decode every document" into SQLite + decryption and
//! Automerge decoding, and compare the envelope design with one age
//! X25519 operation per blob.

use std::iter;
use std::time::{Duration, Instant};

use polku_core::DocKind;

use crate::Store;
use crate::docs::read_all_sealed;
use crate::error::{Result, StoreError};

/// Result of [`Store::bench_raw_decrypt`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RawDecryptStats {
    /// Documents read.
    pub docs: usize,
    /// Sealed blobs (snapshots + change rows) decrypted.
    pub blobs: usize,
    /// Ciphertext bytes read from SQLite.
    pub ciphertext_bytes: u64,
    /// Plaintext bytes produced.
    pub plaintext_bytes: u64,
    /// Time to read all rows from SQLite.
    pub read: Duration,
    /// Time to decrypt them (one thread, cached data key).
    pub decrypt: Duration,
}

/// Result of [`Store::bench_age_per_blob`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AgePerBlobStats {
    /// Blobs processed.
    pub blobs: usize,
    /// Plaintext bytes.
    pub plaintext_bytes: u64,
    /// Bytes of the age ciphertexts (for comparing overhead).
    pub age_ciphertext_bytes: u64,
    /// Time to age-encrypt every blob to the store recipient.
    pub encrypt: Duration,
    /// Time to age-decrypt every blob (one X25519 operation each).
    pub decrypt: Duration,
}

impl Store {
    /// Read every snapshot and change row of `kind` raw from SQLite and
    /// decrypt them, without Automerge.
    pub fn bench_raw_decrypt(&self, kind: DocKind) -> Result<RawDecryptStats> {
        let t = Instant::now();
        let sealed = read_all_sealed(&self.conn, kind)?;
        let read = t.elapsed();
        let mut stats = RawDecryptStats {
            docs: sealed.len(),
            read,
            ..Default::default()
        };
        let t = Instant::now();
        for doc in &sealed {
            stats.blobs += 1 + doc.changes.len();
            stats.ciphertext_bytes += doc.snapshot.len() as u64
                + doc.changes.iter().map(|(_, c)| c.len() as u64).sum::<u64>();
            let (snapshot, changes) = doc.decrypt(&self.keys)?;
            stats.plaintext_bytes += (snapshot.len() + changes.len()) as u64;
        }
        stats.decrypt = t.elapsed();
        Ok(stats)
    }

    /// The alternative design for comparison: the same plaintext blobs as
    /// [`Store::bench_raw_decrypt`], each age-encrypted to the store
    /// recipient and age-decrypted again (one X25519 operation per blob).
    /// Nothing is written to disk.
    pub fn bench_age_per_blob(&self, kind: DocKind) -> Result<AgePerBlobStats> {
        let sealed = read_all_sealed(&self.conn, kind)?;
        let mut plain = Vec::new();
        for doc in &sealed {
            plain.extend(doc.decrypt_each(&self.keys)?);
        }
        let recipient = self.keys.identity.to_public();
        let fail = || StoreError::InvalidInput {
            what: "age benchmark failed",
        };
        let t = Instant::now();
        let encrypted = plain
            .iter()
            .map(|p| age::encrypt(&recipient, p).map_err(|_| fail()))
            .collect::<Result<Vec<_>>>()?;
        let encrypt = t.elapsed();
        let t = Instant::now();
        let mut plaintext_bytes = 0u64;
        for blob in &encrypted {
            let d = age::Decryptor::new_buffered(blob.as_slice()).map_err(|_| fail())?;
            let mut r = d
                .decrypt(iter::once(&self.keys.identity as &dyn age::Identity))
                .map_err(|_| fail())?;
            let mut out = Vec::new();
            std::io::Read::read_to_end(&mut r, &mut out)?;
            plaintext_bytes += out.len() as u64;
        }
        let decrypt = t.elapsed();
        Ok(AgePerBlobStats {
            blobs: encrypted.len(),
            plaintext_bytes,
            age_ciphertext_bytes: encrypted.iter().map(|b| b.len() as u64).sum(),
            encrypt,
            decrypt,
        })
    }
}
