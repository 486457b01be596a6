//! Writes the committed schema-v1 fixture store used by `tests/migration.rs`.
//!
//! ```text
//! cargo run -p polku-store --example make_v1_fixture -- crates/polku-store/tests/fixtures/v1
//! ```
//!
//! Run it only to re-create a lost fixture: the point of the fixture is that
//! it was written by schema v1 and stays byte-for-byte as committed. The
//! constants below are documented in `tests/fixtures/README.md` and repeated
//! in the test.

use std::error::Error;

use automerge::{ActorId, AutoCommit, ROOT, transaction::Transactable};
use polku_core::{AttachmentId, DocId, DocKind, UserId};
use polku_store::{KdfParams, NewUser, Store};

const USER_ID: &str = "0190f5c4-0000-7000-8000-000000000001";
const LOGIN: &str = "fixture-user";
const PASSWORD: &str = "polku-fixture-v1";
const DOC_ID: &str = "0190f5c4-0000-7000-8000-0000000000d1";
const ATTACHMENT_ID: &str = "0190f5c4-0000-7000-8000-0000000000a1";
const ATTACHMENT: &[u8] = b"fixture attachment v1\n";

fn main() -> Result<(), Box<dyn Error>> {
    let dir = std::env::args_os()
        .nth(1)
        .ok_or("usage: make_v1_fixture <empty directory>")?;
    let store = Store::create_with_schema(
        &dir,
        NewUser {
            user_id: USER_ID.parse::<UserId>()?,
            login: LOGIN,
            password: PASSWORD,
            kdf: KdfParams::INSECURE_FOR_TESTS,
        },
        1,
    )?;
    let id: DocId = DOC_ID.parse()?;
    let mut doc = AutoCommit::new().with_actor(ActorId::from(b"fixture-actor-v1".as_slice()));
    doc.put(ROOT, "title", "Fixture document v1")?;
    store.create_doc(id, DocKind::Client, &doc.save())?;
    doc.put(ROOT, "count", 2_i64)?;
    store.append_change(id, &doc.save_incremental(), &doc.get_heads())?;
    store.put_attachment_with_id(ATTACHMENT_ID.parse::<AttachmentId>()?, ATTACHMENT)?;
    store.close()?;
    println!("wrote a schema v1 store");
    Ok(())
}
