//! What Automerge bytes from a peer inflate to, found out before Automerge
//! sees them.
//!
//! automerge 0.12 inflates compressed change chunks and deflated document
//! columns with `read_to_end` and no limit, so a few kilobytes from a peer
//! could make it allocate gigabytes. [`inflated_len`] walks the chunks of a
//! saved document or of a sync message's changes (the storage format:
//! chunk header, then for a document or bundle chunk the column metadata),
//! inflates every compressed part through a bounded reader into nothing, and
//! answers with the total uncompressed size, or refuses once it passes the
//! bound. Bytes whose layout it cannot follow are refused too: what cannot be
//! bounded is not loaded.

use std::io::Read;

/// First bytes of every Automerge chunk.
const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];

const CHUNK_DOCUMENT: u8 = 0;
const CHUNK_CHANGE: u8 = 1;
const CHUNK_COMPRESSED: u8 = 2;
const CHUNK_BUNDLE: u8 = 3;

/// Bit of a column specification marking the column deflated.
const COLUMN_DEFLATE: u32 = 0b1000;

/// Length of a change hash.
const HASH_LEN: usize = 32;

/// Why bytes were refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InflateError {
    /// They would inflate past the bound.
    #[error("the document inflates past the bound")]
    TooLarge,
    /// Their layout is not one this check can follow.
    #[error("the document's chunk layout cannot be read")]
    Malformed,
}

struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], InflateError> {
        if n > self.bytes.len() {
            return Err(InflateError::Malformed);
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }

    fn uleb(&mut self) -> Result<u64, InflateError> {
        let mut value: u64 = 0;
        for i in 0..10 {
            let b = *self.take(1)?.first().ok_or(InflateError::Malformed)?;
            let part = u64::from(b & 0x7f);
            if i == 9 && part > 1 {
                return Err(InflateError::Malformed);
            }
            value |= part << (7 * i);
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(InflateError::Malformed)
    }

    fn len(&mut self) -> Result<usize, InflateError> {
        usize::try_from(self.uleb()?).map_err(|_| InflateError::Malformed)
    }

    /// `count` length-prefixed byte strings (actor ids).
    fn skip_prefixed(&mut self) -> Result<(), InflateError> {
        let count = self.uleb()?;
        for _ in 0..count {
            let n = self.len()?;
            self.take(n)?;
        }
        Ok(())
    }

    /// A count, then that many change hashes.
    fn skip_hashes(&mut self) -> Result<(), InflateError> {
        let count = self.len()?;
        let n = count.checked_mul(HASH_LEN).ok_or(InflateError::Malformed)?;
        self.take(n)?;
        Ok(())
    }

    /// Column metadata: a count, then (specification, length) pairs.
    fn columns(&mut self) -> Result<Vec<(u32, usize)>, InflateError> {
        let count = self.uleb()?;
        let mut cols = Vec::new();
        for _ in 0..count {
            let spec = u32::try_from(self.uleb()?).map_err(|_| InflateError::Malformed)?;
            let len = self.len()?;
            cols.push((spec, len));
        }
        Ok(cols)
    }
}

/// Adds what `cols` (whose data follows in `r`) inflate to.
fn add_columns(
    r: &mut Reader<'_>,
    cols: &[(u32, usize)],
    total: &mut usize,
    max: usize,
) -> Result<(), InflateError> {
    for &(spec, len) in cols {
        let data = r.take(len)?;
        if spec & COLUMN_DEFLATE != 0 {
            add_inflated(data, total, max)?;
        } else {
            add(total, len, max)?;
        }
    }
    Ok(())
}

fn add(total: &mut usize, n: usize, max: usize) -> Result<(), InflateError> {
    *total = total.checked_add(n).ok_or(InflateError::TooLarge)?;
    if *total > max {
        return Err(InflateError::TooLarge);
    }
    Ok(())
}

/// Inflates raw deflate `data` into nothing, at most to what is left of `max`.
fn add_inflated(data: &[u8], total: &mut usize, max: usize) -> Result<(), InflateError> {
    let left = max.saturating_sub(*total) as u64;
    let decoder = flate2::bufread::DeflateDecoder::new(data);
    let mut bounded = decoder.take(left + 1);
    let n =
        std::io::copy(&mut bounded, &mut std::io::sink()).map_err(|_| InflateError::Malformed)?;
    if n > left {
        return Err(InflateError::TooLarge);
    }
    add(
        total,
        usize::try_from(n).map_err(|_| InflateError::TooLarge)?,
        max,
    )
}

/// The uncompressed size of the Automerge chunks in `bytes` (a saved
/// document, or one entry of a sync message's changes), if it is at most
/// `max`; every compressed part is inflated through a bounded reader.
pub fn inflated_len(bytes: &[u8], max: usize) -> Result<usize, InflateError> {
    let mut total = 0usize;
    let mut r = Reader { bytes };
    while !r.bytes.is_empty() {
        if r.take(4)? != MAGIC {
            return Err(InflateError::Malformed);
        }
        r.take(4)?; // checksum
        let kind = r.take(1)?[0];
        let len = r.len()?;
        let data = r.take(len)?;
        let mut d = Reader { bytes: data };
        match kind {
            CHUNK_DOCUMENT => {
                d.skip_prefixed()?; // actors
                d.skip_hashes()?; // heads
                let change_cols = d.columns()?;
                let op_cols = d.columns()?;
                add_columns(&mut d, &change_cols, &mut total, max)?;
                add_columns(&mut d, &op_cols, &mut total, max)?;
                add(&mut total, d.bytes.len(), max)?; // head indices
            }
            CHUNK_BUNDLE => {
                d.skip_hashes()?; // deps
                d.skip_prefixed()?; // actors
                let change_cols = d.columns()?;
                add_columns(&mut d, &change_cols, &mut total, max)?;
                let op_cols = d.columns()?;
                add_columns(&mut d, &op_cols, &mut total, max)?;
                add(&mut total, d.bytes.len(), max)?;
            }
            // A change chunk's columns are never compressed (Automerge refuses them).
            CHUNK_CHANGE => add(&mut total, len, max)?,
            CHUNK_COMPRESSED => add_inflated(data, &mut total, max)?,
            _ => return Err(InflateError::Malformed),
        }
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use automerge::transaction::Transactable;
    use automerge::{AutoCommit, ROOT};

    fn doc_with_text(n: usize) -> AutoCommit {
        let mut doc = AutoCommit::new();
        doc.put(ROOT, "memo", "a".repeat(n)).expect("put");
        doc.put(ROOT, "n", 1).expect("put");
        doc.commit();
        doc
    }

    #[test]
    fn honest_saves_and_changes_are_measured() {
        let mut doc = doc_with_text(100_000);
        let saved = doc.save();
        let plain = doc.save_nocompress();
        assert!(saved.len() < plain.len(), "the save is compressed");
        let a = inflated_len(&saved, usize::MAX).expect("compressed save");
        let b = inflated_len(&plain, usize::MAX).expect("plain save");
        assert!(a >= 100_000 && b >= 100_000, "{a} {b}");
        for change in doc.get_changes(&[]) {
            inflated_len(change.raw_bytes(), usize::MAX).expect("change");
        }
        assert_eq!(inflated_len(&[], 0), Ok(0));
    }

    #[test]
    fn a_document_inflating_past_the_bound_is_refused() {
        let mut doc = doc_with_text(1_000_000);
        let saved = doc.save();
        assert!(saved.len() < 100_000, "{}", saved.len());
        assert_eq!(inflated_len(&saved, 500_000), Err(InflateError::TooLarge));
        assert!(inflated_len(&saved, 2_000_000).is_ok());
    }

    #[test]
    fn garbage_is_refused() {
        assert_eq!(
            inflated_len(b"not automerge", 1 << 20),
            Err(InflateError::Malformed)
        );
        let mut saved = doc_with_text(10).save();
        saved.truncate(saved.len() - 1);
        assert_eq!(inflated_len(&saved, 1 << 20), Err(InflateError::Malformed));
    }
}
