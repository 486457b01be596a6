//! A consistent copy of the whole store, for backups: the database as one
//! file (`VACUUM INTO`, which includes what is still in the WAL and leaves no
//! free pages behind) and the attachment files (sealed age files, never
//! changed once written). Everything in the copy is as encrypted as in the
//! store itself.

use std::fs;
use std::path::Path;

use crate::Store;
use crate::error::{Result, StoreError};
use crate::store::{ATTACHMENTS_DIR, DB_FILE};

impl Store {
    /// Copy the store into the new, empty directory `to`: `polku.db` and
    /// `attachments/`. Reads only; the store stays usable.
    pub fn snapshot_into(&self, to: &Path) -> Result<()> {
        fs::create_dir_all(to)?;
        if fs::read_dir(to)?.next().is_some() {
            return Err(StoreError::InvalidInput {
                what: "the snapshot directory is not empty",
            });
        }
        let db = to.join(DB_FILE);
        let db = db.to_str().ok_or(StoreError::InvalidInput {
            what: "the snapshot path is not UTF-8",
        })?;
        self.conn.execute("VACUUM INTO ?1", [db])?;
        let from = self.dir.join(ATTACHMENTS_DIR);
        if from.is_dir() {
            let dest = to.join(ATTACHMENTS_DIR);
            fs::create_dir(&dest)?;
            for entry in fs::read_dir(&from)? {
                let entry = entry?;
                let name = entry.file_name();
                // Half-written files of an interrupted add are not attachments.
                if name.to_string_lossy().starts_with('.') || !entry.file_type()?.is_file() {
                    continue;
                }
                fs::copy(entry.path(), dest.join(&name))?;
            }
        }
        Ok(())
    }
}
