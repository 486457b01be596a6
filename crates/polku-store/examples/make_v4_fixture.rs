//! Writes the committed schema-v4 fixture store used by `tests/migration.rs`:
//! a store from before the write counters (schema v5), with index entries,
//! sealed values (one overwritten, one deleted) and a document view.
//!
//! ```text
//! cargo run -p polku-store --example make_v4_fixture -- crates/polku-store/tests/fixtures/v4
//! ```
//!
//! It was run with the schema-v4 binary (commit 91c5363); run by a newer
//! binary it writes a store of the newer schema, which is not a v4 fixture.
//! Never regenerate the committed one. The constants below are documented in
//! `tests/fixtures/README.md` and repeated in the test.

use std::error::Error;

use automerge::{ActorId, AutoCommit, ROOT, transaction::Transactable};
use polku_core::{DocId, DocKind, UserId};
use polku_store::{KdfParams, NewUser, Store, heads_hash};

const USER_ID: &str = "0190f5c4-0000-7000-8000-000000000004";
const LOGIN: &str = "fixture-user";
const PASSWORD: &str = "polku-fixture-v4";
const DOC_A: &str = "0190f5c4-0000-7000-8000-0000000004d1";
const DOC_B: &str = "0190f5c4-0000-7000-8000-0000000004d2";

fn main() -> Result<(), Box<dyn Error>> {
    let dir = std::env::args_os()
        .nth(1)
        .ok_or("usage: make_v4_fixture <empty directory>")?;
    let store = Store::create(
        &dir,
        NewUser {
            user_id: USER_ID.parse::<UserId>()?,
            login: LOGIN,
            password: PASSWORD,
            kdf: KdfParams::INSECURE_FOR_TESTS,
        },
    )?;
    if store.schema_version()? != 4 {
        return Err("this binary does not write schema v4".into());
    }
    for (id, title) in [(DOC_A, "Fixture A v4"), (DOC_B, "Fixture B v4")] {
        let id: DocId = id.parse()?;
        let mut doc = AutoCommit::new().with_actor(ActorId::from(b"fixture-actor-v4".as_slice()));
        doc.put(ROOT, "title", title)?;
        let hh = store.create_doc(id, DocKind::Client, &doc.save())?;
        store.put_index(id, format!("index {title} old").as_bytes())?;
        store.put_index(id, format!("index {title}").as_bytes())?;
        if title.starts_with("Fixture A") {
            store.put_view(id, hh, b"view A v4")?;
        }
        assert_eq!(hh, heads_hash(&doc.get_heads()));
    }
    store.put_meta(b"tomb-next", b"1")?;
    store.put_meta(b"tomb-next", b"2")?;
    store.put_meta(b"last-contact", b"2026-11-30")?;
    store.put_meta(b"gone", b"x")?;
    store.delete_meta(b"gone")?;
    store.close()?;
    println!("wrote a schema v4 store");
    Ok(())
}
