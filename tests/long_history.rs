//! A client document with a long history (issue 12): edited daily for a
//! year and synced along the way, one more change still crosses in bytes
//! proportional to that change, not to the history — in either direction.

use chrono::{Duration, Utc};
use polku_api::ClientInput;
use polku_core::model::record_doc_id;
use polku_core::{DocId, DocKind};
use polku_scenarios::{PASSWORD, add_worker, demo_hub, enrol_in_process, login, sync_in_memory};

/// Days of edits: a year of working days and then some.
const DAYS: i64 = 400;
/// Sync every this many days along the way.
const SYNC_EVERY: i64 = 10;
/// The most one more memo may cost a resync, both directions together.
const MAX_BYTES: u64 = 2 * 1024;

fn sync(
    hub: &mut polku_api::SyncReplica,
    laptop: &mut polku_api::SyncReplica,
) -> polku_sync::SyncReport {
    let (h, l) = sync_in_memory(hub, laptop);
    let h = h.expect("hub side");
    let l = l.expect("laptop side");
    assert!(h.completed && l.completed);
    assert!(l.refused_by_peer.is_empty() && l.quarantined.is_empty());
    l
}

fn changes_of(r: &polku_api::SyncReplica, id: DocId) -> usize {
    r.session()
        .store()
        .load_doc(id)
        .expect("load")
        .get_changes(&[])
        .len()
}

#[test]
fn a_client_edited_daily_for_a_year_resyncs_one_more_change_in_at_most_2_kb() {
    let hub_dir = tempfile::tempdir().expect("tempdir");
    let laptop_dir = tempfile::tempdir().expect("tempdir");
    let mut admin = demo_hub(hub_dir.path(), 4);
    add_worker(&mut admin, hub_dir.path(), "maija", "Itä", PASSWORD);
    enrol_in_process(&mut admin, "maija", PASSWORD, laptop_dir.path(), [41; 32]);
    let mut hub = admin.into_replica().expect("hub replica");
    let mut laptop = login(laptop_dir.path(), "maija", PASSWORD)
        .into_replica()
        .expect("laptop replica");
    sync(&mut hub, &mut laptop);

    let start = Utc::now() - Duration::days(DAYS + 1);
    // A young person of her own (a worker modifies her own clients).
    let client = laptop
        .session_mut()
        .add_client(
            ClientInput {
                first_name: "Vuoden".into(),
                last_name: "Asiakas".into(),
                ..ClientInput::default()
            },
            start,
        )
        .expect("add client");
    sync(&mut hub, &mut laptop);
    let record = record_doc_id(client);
    // A memo a day, written alternately on the laptop and on the hub.
    for day in 0..DAYS {
        let at = start + Duration::days(day);
        let text = format!("Päivän {day} tapaaminen: kuulumiset ja seuraava askel.");
        let side = if day % 2 == 0 { &mut laptop } else { &mut hub };
        side.session_mut()
            .add_memo(client, &text, None, at)
            .expect("memo");
        if day % SYNC_EVERY == SYNC_EVERY - 1 {
            sync(&mut hub, &mut laptop);
        }
    }
    sync(&mut hub, &mut laptop);
    let history = changes_of(&laptop, record);
    assert!(history >= DAYS as usize, "{history} changes in the record");
    assert_eq!(changes_of(&hub, record), history);
    // A resync with nothing changed, for comparison.
    let idle = sync(&mut hub, &mut laptop);
    let idle_bytes = idle.bytes_sent + idle.bytes_received;

    let now = Utc::now();
    for (who, on_laptop) in [("laptop", true), ("hub", false)] {
        let side = if on_laptop { &mut laptop } else { &mut hub };
        side.session_mut()
            .add_memo(client, "Vielä yksi muistio.", None, now)
            .expect("one more memo");
        let r = sync(&mut hub, &mut laptop);
        let moved = r.bytes_sent + r.bytes_received;
        assert_eq!(r.docs_differing, 1, "one more change on the {who}");
        assert!(
            moved <= MAX_BYTES,
            "one more change on the {who} after {history} changes moved {moved} bytes \
             (an unchanged resync moves {idle_bytes})"
        );
        eprintln!(
            "one more change on the {who}: {moved} bytes (unchanged resync {idle_bytes}); \
             history {history} changes"
        );
    }
    assert_eq!(
        laptop.session().store().heads_hash_of(record).expect("hh"),
        hub.session().store().heads_hash_of(record).expect("hh")
    );
    let kinds = laptop
        .session()
        .store()
        .list_docs(DocKind::Client)
        .expect("list");
    assert!(kinds.contains(&DocId::from(client)));
}
