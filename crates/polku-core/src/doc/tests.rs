use chrono::{DateTime, NaiveDate, Utc};
use proptest::prelude::*;

use super::*;
use crate::ids::*;
use crate::model::*;
use crate::testing;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).expect("valid date")
}

fn t0() -> DateTime<Utc> {
    DateTime::from_timestamp_millis(1_700_000_000_000).expect("valid instant")
}

fn id<T: From<uuid::Uuid>>(n: u8) -> T {
    T::from(uuid::Uuid::from_bytes([n; 16]))
}

/// A small client: one period with a measure, one memo.
fn fixture() -> Client {
    let mut c = Client::new(id(1), t0());
    c.basic.first_name = "Aino".into();
    c.basic.last_name = "Virtanen".into();
    c.basic.birth_date = Some(d(2005, 3, 14));
    c.basic.gender = Some("female".into());
    c.unit = Some(id(2));
    c.responsible.insert(id(3));
    let mut p = Period::new(id(4));
    p.start = Some(d(2024, 1, 10));
    p.arrival_route = Some("education_provider".into());
    p.goals = "Löytää opiskelupaikka.".into();
    p.insert_measure(Measure {
        id: id(5),
        code: "guidance".into(),
        start: Some(d(2024, 1, 10)),
        status: MeasureStatus::Ongoing,
        end: None,
    });
    c.insert_period(p);
    c.insert_memo(Memo {
        id: id(6),
        date: d(2024, 1, 10),
        author: id(3),
        kind: "meeting".into(),
        text: "Tavattiin kirjastossa.".into(),
        deleted: None,
    });
    c
}

/// Saves both documents and loads them as another device writing as `actor`.
fn reload(doc: &mut ClientDoc, actor: ActorId) -> Result<ClientDoc, DocError> {
    let (basic, record) = doc.save_new();
    ClientDoc::load_parts_with_actor(&basic, record.as_deref(), actor)
}

fn actor(n: u8) -> ActorId {
    ActorId::from(vec![n; 16])
}

// ------------------------------------------------------------ round trips

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn client_round_trips(c in testing::client()) {
        let mut doc = ClientDoc::new(&c).expect("new");
        prop_assert_eq!(&doc.client().expect("hydrate"), &c);
        let loaded = reload(&mut doc, ActorId::random()).expect("load");
        prop_assert_eq!(&loaded.client().expect("hydrate"), &c);
        prop_assert_eq!(loaded.summary().expect("summary"), c.summary());
        prop_assert!(loaded.conflicts().expect("conflicts").is_empty());
    }

    #[test]
    fn activity_memo_round_trips(a in testing::activity_memo()) {
        let mut doc = ActivityMemoDoc::new(&a).expect("new");
        let loaded = ActivityMemoDoc::load(&doc.save()).expect("load");
        prop_assert_eq!(loaded.activity_memo().expect("hydrate"), a);
    }

    #[test]
    fn organisation_round_trips(o in testing::organisation()) {
        let mut doc = OrgDoc::new(&o).expect("new");
        let loaded = OrgDoc::load(&doc.save()).expect("load");
        prop_assert_eq!(loaded.organisation().expect("hydrate"), o);
    }

    /// Writing only the differences turns any client into any other.
    #[test]
    fn update_reaches_any_client(a in testing::client(), mut b in testing::client()) {
        b.id = a.id;
        let mut doc = ClientDoc::new(&a).expect("new");
        doc.update(|c| *c = b.clone()).expect("set");
        prop_assert_eq!(&doc.client().expect("hydrate"), &b);
        let loaded = reload(&mut doc, ActorId::random()).expect("load");
        prop_assert_eq!(loaded.client().expect("hydrate"), b);
    }

    #[test]
    fn update_reaches_any_organisation(a in testing::organisation(), mut b in testing::organisation()) {
        b.id = a.id;
        let mut doc = OrgDoc::new(&a).expect("new");
        doc.set(&b).expect("set");
        prop_assert_eq!(doc.organisation().expect("hydrate"), b);
    }

    #[test]
    fn update_reaches_any_activity_memo(a in testing::activity_memo(), mut b in testing::activity_memo()) {
        b.id = a.id;
        let mut doc = ActivityMemoDoc::new(&a).expect("new");
        doc.set(&b).expect("set");
        prop_assert_eq!(doc.activity_memo().expect("hydrate"), b);
    }

    /// A new whole text is applied as a diff that reaches exactly that text.
    #[test]
    fn set_memo_text_reaches_target(old in testing::text(), new in testing::text()) {
        let mut c = fixture();
        if let Some(m) = c.memos.get_mut(&id(6)) {
            m.text = old;
        }
        let mut doc = ClientDoc::new(&c).expect("new");
        doc.set_memo_text(id(6), &new).expect("set text");
        prop_assert_eq!(&doc.client().expect("hydrate").memos[&id(6)].text, &new);
    }

    #[test]
    fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        prop_assert!(BasicDoc::load(&bytes).is_err());
        prop_assert!(RecordDoc::load(&bytes).is_err());
    }

    #[test]
    fn truncated_or_flipped_documents_never_panic(cut in 0usize..4096, flip in 0usize..4096, bit in 0u8..8) {
        let mut bytes = RecordDoc::new(&fixture().split().1).expect("new").save();
        let i = flip % bytes.len();
        bytes[i] ^= 1 << bit;
        bytes.truncate(cut % (bytes.len() + 1));
        // May load (a flip in compressed padding) but must not panic.
        if let Ok(doc) = RecordDoc::load(&bytes) {
            let _ = doc.get();
        }
    }
}

// ------------------------------------------------------------ loading

#[test]
fn garbage_is_a_typed_error() {
    assert!(matches!(
        BasicDoc::load(b"definitely not automerge"),
        Err(DocError::Decode(_) | DocError::DecodePanic)
    ));
    // An empty input is an empty Automerge document, which is not ours.
    assert!(matches!(BasicDoc::load(&[]), Err(DocError::NotPolku)));
    let mut other = AutoCommit::new();
    other.put(ROOT, "hello", "world").expect("put");
    assert!(matches!(
        BasicDoc::load(&other.save()),
        Err(DocError::NotPolku)
    ));
}

#[test]
fn wrong_kind_is_refused() {
    let memo = ActivityMemo::new(id(9), "street_work", d(2024, 5, 1), id(2));
    let bytes = ActivityMemoDoc::new(&memo).expect("new").save();
    assert!(matches!(
        BasicDoc::load(&bytes),
        Err(DocError::WrongKind {
            expected: DocKind::Client,
            found: Some(DocKind::ActivityMemo)
        })
    ));
    assert_eq!(peek_kind(&bytes).expect("peek"), DocKind::ActivityMemo);
}

#[test]
fn newer_schema_is_refused() {
    let mut am = BasicDoc::new(&fixture().split().0)
        .expect("new")
        .into_automerge();
    am.put(ROOT, SCHEMA_KEY, SCHEMA_VERSION + 1).expect("put");
    assert!(matches!(
        BasicDoc::from_automerge(am),
        Err(DocError::UnsupportedSchema { found, .. }) if found == SCHEMA_VERSION + 1
    ));
}

#[test]
fn schema_errors_name_the_path_not_the_value() {
    let mut doc = ClientDoc::new(&fixture()).expect("new");
    let am = doc.basic_mut().as_automerge_mut();
    let basic = match am.get(ROOT, "basic").expect("get") {
        Some((_, id)) => id,
        None => panic!("basic missing"),
    };
    am.put(&basic, "birth_date", "Aino's birthday")
        .expect("put");
    am.commit();
    let err = doc.client().expect_err("bad date");
    let msg = err.to_string();
    assert!(msg.contains("/basic/birth_date"), "{msg}");
    assert!(!msg.contains("Aino"), "{msg}");
}

// ------------------------------------------------------------ saving

#[test]
fn incremental_saves_rebuild_the_document() {
    let mut doc = ClientDoc::new(&fixture()).expect("new");
    let (basic, record) = doc.save_new();
    let record = record.expect("the fixture has a record");
    assert!(doc.save_changes().is_empty(), "nothing new after save");
    assert!(!doc.has_unsaved_changes());

    doc.update(|c| c.basic.phone = "040 123 4567".into())
        .expect("update");
    assert!(doc.has_unsaved_changes());
    let e1 = doc.save_changes();
    doc.set_memo_text(id(6), "Tavattiin kirjastossa. Sovittiin uusi aika.")
        .expect("text");
    let e2 = doc.save_changes();
    // The phone went to the basic-data document only, the memo to the record.
    assert_eq!(e1.len(), 1);
    assert_eq!(e1[0].kind, DocKind::Client);
    assert_eq!(e2.len(), 1);
    assert_eq!(e2[0].kind, DocKind::ClientRecord);
    assert!(!e1[0].new && !e2[0].new);

    let b = BasicDoc::load_with_log(&basic, [e1[0].bytes.as_slice()]).expect("basic");
    let r = RecordDoc::load_with_log(&record, [e2[0].bytes.as_slice()]).expect("record");
    let rebuilt =
        ClientDoc::from_parts(b.into_automerge(), Some(r.into_automerge())).expect("load");
    assert_eq!(rebuilt.client().expect("a"), doc.client().expect("b"));
}

#[test]
fn a_basic_only_client_has_no_record_until_one_is_written() {
    let mut c = fixture();
    let (basic, _) = c.split();
    c = Client::join(basic, None);
    let mut doc = ClientDoc::new(&c).expect("new");
    let (_, record) = doc.save_new();
    assert!(
        record.is_none(),
        "nothing but basic data: no record document"
    );
    assert!(doc.record().is_none());
    doc.set_text(ClientTextField::Background(BackgroundField::Health), "x")
        .expect("text");
    let parts = doc.save_changes();
    assert_eq!(parts.len(), 1);
    assert!(parts[0].new, "the record document starts here");
    assert_eq!(parts[0].id, record_doc_id(c.id));
}

/// Two devices that each start a client's record offline share its first
/// change, so both devices' periods, memos and texts survive the merge.
#[test]
fn records_started_on_two_devices_merge_without_hiding_either() {
    let base = {
        let c = fixture();
        Client::join(c.split().0, None)
    };
    let mut a = ClientDoc::new_with_actor(&base, actor(1)).expect("a");
    let mut b = reload(&mut a, actor(2)).expect("b");
    assert!(a.record().is_none() && b.record().is_none());
    let memo_a: MemoId = id(50);
    let memo_b: MemoId = id(51);
    for (doc, memo, text) in [
        (&mut a, memo_a, "A:n muistio"),
        (&mut b, memo_b, "B:n muistio"),
    ] {
        doc.update(|c| {
            c.insert_memo(Memo {
                id: memo,
                date: d(2024, 3, 1),
                author: id(3),
                kind: "meeting".into(),
                text: text.into(),
                deleted: None,
            });
        })
        .expect("memo");
    }
    a.set_text(
        ClientTextField::Background(BackgroundField::Skills),
        "Piirtää",
    )
    .expect("a skills");
    b.set_text(
        ClientTextField::Background(BackgroundField::Skills),
        "Laulaa",
    )
    .expect("b skills");
    let ga = a
        .record_if_held()
        .expect("a record")
        .as_automerge_mut()
        .get_changes(&[]);
    let gb = b
        .record_if_held()
        .expect("b record")
        .as_automerge_mut()
        .get_changes(&[]);
    assert_eq!(ga[0].hash(), gb[0].hash(), "one shared first change");
    a.merge(&mut b).expect("merge");
    let merged = a.client().expect("merged");
    assert_eq!(merged.memos[&memo_a].text, "A:n muistio");
    assert_eq!(merged.memos[&memo_b].text, "B:n muistio");
    assert!(merged.background.skills.contains("Piirtää"));
    assert!(merged.background.skills.contains("Laulaa"));
    assert!(a.conflicts().expect("conflicts").is_empty());
}

#[test]
fn an_update_that_changes_nothing_writes_nothing() {
    let mut doc = ClientDoc::new(&fixture()).expect("new");
    let before = doc.heads();
    doc.update(|c| c.basic.first_name = "Aino".into())
        .expect("update");
    assert_eq!(doc.heads(), before);
}

#[test]
fn the_id_cannot_change() {
    let mut doc = ClientDoc::new(&fixture()).expect("new");
    assert!(matches!(
        doc.update(|c| c.id = id(42)),
        Err(DocError::IdChanged)
    ));
}

#[test]
fn text_splice_checks_its_range() {
    let mut doc = ClientDoc::new(&fixture()).expect("new");
    doc.splice_memo_text(id(6), 0, 9, "Nähtiin")
        .expect("splice");
    assert_eq!(
        doc.client().expect("c").memos[&id(6)].text,
        "Nähtiin kirjastossa."
    );
    assert!(matches!(
        doc.splice_memo_text(id(6), 19, 5, ""),
        Err(DocError::OutOfRange { len: 20, .. })
    ));
    assert!(matches!(
        doc.set_memo_text(id(77), "x"),
        Err(DocError::NotFound { .. })
    ));
}

// ------------------------------------------------------------ merging

#[test]
fn two_actors_edit_different_fields_offline() {
    let mut laptop = ClientDoc::new_with_actor(&fixture(), actor(1)).expect("new");
    let mut hub = reload(&mut laptop, actor(2)).expect("load");

    let memo2: MemoId = id(20);
    laptop
        .update(|c| {
            c.basic.phone = "040 765 4321".into();
            c.insert_memo(Memo {
                id: memo2,
                date: d(2024, 2, 1),
                author: id(3),
                kind: "phone".into(),
                text: "Soitettiin.".into(),
                deleted: None,
            });
            c.background.skills = "Piirtäminen".into();
        })
        .expect("laptop");
    let snap: SnapshotId = id(21);
    hub.update(|c| {
        c.basic.mother_tongue = Some("fi".into());
        c.responsible.insert(id(30));
        let mut s = SituationSnapshot::new(snap, d(2024, 1, 10), SnapshotPhase::Start);
        s.housing = Some("with_parents".into());
        c.insert_snapshot(s);
        if let Some(p) = c.periods.get_mut(&id(4)) {
            p.outcome = Some("vocational".into());
        }
    })
    .expect("hub");

    laptop.merge(&mut hub).expect("merge");
    hub.merge(&mut laptop).expect("merge back");
    let a = laptop.client().expect("laptop");
    let b = hub.client().expect("hub");
    assert_eq!(a, b);
    assert_eq!(a.basic.phone, "040 765 4321");
    assert_eq!(a.basic.mother_tongue.as_deref(), Some("fi"));
    assert_eq!(a.background.skills, "Piirtäminen");
    assert_eq!(a.memos.len(), 2);
    assert_eq!(a.memos[&memo2].text, "Soitettiin.");
    assert_eq!(a.snapshots[&snap].housing.as_deref(), Some("with_parents"));
    assert_eq!(a.responsible.len(), 2);
    assert_eq!(a.periods[&id(4)].outcome.as_deref(), Some("vocational"));
    assert!(laptop.conflicts().expect("conflicts").is_empty());
}

#[test]
fn concurrent_memo_text_edits_keep_both() {
    let mut a = ClientDoc::new_with_actor(&fixture(), actor(1)).expect("new");
    let mut b = reload(&mut a, actor(2)).expect("load");

    // Both replace the whole text, as the app does; each edit becomes a splice.
    a.update(|c| {
        if let Some(m) = c.memos.get_mut(&id(6)) {
            m.text = "Tavattiin pääkirjastossa.".into();
        }
    })
    .expect("a");
    b.set_memo_text(id(6), "Tavattiin kirjastossa. Nuori toi todistukset.")
        .expect("b");
    // And the period goals through the closure, concurrently.
    a.set_text(
        ClientTextField::PeriodGoals(id(4)),
        "Löytää opiskelupaikka syksyksi.",
    )
    .expect("a goals");
    b.set_text(
        ClientTextField::PeriodGoals(id(4)),
        "Tavoite: Löytää opiskelupaikka.",
    )
    .expect("b goals");

    a.merge(&mut b).expect("merge");
    b.merge(&mut a).expect("merge back");
    let merged = a.client().expect("merged");
    assert_eq!(merged, b.client().expect("b"));
    assert_eq!(
        merged.memos[&id(6)].text,
        "Tavattiin pääkirjastossa. Nuori toi todistukset."
    );
    assert_eq!(
        merged.periods[&id(4)].goals,
        "Tavoite: Löytää opiskelupaikka syksyksi."
    );
    assert!(a.conflicts().expect("conflicts").is_empty());
}

#[test]
fn concurrent_values_of_one_field_are_exposed_and_resolved() {
    let mut a = ClientDoc::new_with_actor(&fixture(), actor(1)).expect("new");
    let mut b = reload(&mut a, actor(2)).expect("load");
    a.update(|c| c.basic.gender = Some("male".into()))
        .expect("a");
    b.update(|c| c.basic.gender = Some("other".into()))
        .expect("b");
    a.update(|c| {
        if let Some(p) = c.periods.get_mut(&id(4)) {
            p.end = Some(d(2024, 6, 1));
        }
    })
    .expect("a end");
    b.update(|c| {
        if let Some(p) = c.periods.get_mut(&id(4)) {
            p.end = Some(d(2024, 6, 3));
        }
    })
    .expect("b end");
    a.merge(&mut b).expect("merge");

    let conflicts = a.conflicts().expect("conflicts");
    assert_eq!(conflicts.len(), 2, "{conflicts:?}");
    let gender = conflicts
        .iter()
        .find(|c| c.path == ["basic", "gender"])
        .expect("gender conflict");
    let shown = a.client().expect("c").basic.gender.expect("gender");
    assert_eq!(gender.values[0], ConflictValue::Str(shown));
    let mut values = gender.values.clone();
    values.sort_by_key(|v| format!("{v:?}"));
    assert_eq!(
        values,
        [
            ConflictValue::Str("male".into()),
            ConflictValue::Str("other".into())
        ]
    );
    let end_path = [
        "periods".to_owned(),
        id::<PeriodId>(4).to_string(),
        "end".to_owned(),
    ];
    assert!(
        conflicts
            .iter()
            .any(|c| c.path == end_path && c.values.len() == 2)
    );

    // An update of another field leaves the conflicts alone.
    a.update(|c| c.basic.email = "aino@example.fi".into())
        .expect("other field");
    assert_eq!(a.conflicts().expect("still").len(), 2);

    // Resolving takes the value a person chose, also the one not shown.
    let loser = gender.values[1].clone();
    a.resolve_conflict(&gender.path, &loser).expect("resolve");
    let after = a.conflicts().expect("after");
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].path, end_path);
    let ConflictValue::Str(chosen) = &loser else {
        panic!("string value expected")
    };
    assert_eq!(
        a.client().expect("c").basic.gender.as_deref(),
        Some(chosen.as_str())
    );

    // The resolution syncs: b sees it and no conflict either.
    b.merge(&mut a).expect("merge");
    assert_eq!(b.conflicts().expect("b").len(), 1);
    assert_eq!(
        b.client().expect("b").basic.gender.as_deref(),
        Some(chosen.as_str())
    );

    // A value that is not in the conflict is refused.
    assert!(matches!(
        a.resolve_conflict(&end_path, &ConflictValue::Str("2030-01-01".into())),
        Err(DocError::NotAConflictValue { .. })
    ));
}

#[test]
fn concurrent_adds_of_the_same_set_member_are_not_a_conflict() {
    let mut a = ClientDoc::new_with_actor(&fixture(), actor(1)).expect("new");
    let mut b = reload(&mut a, actor(2)).expect("load");
    a.update(|c| c.responsible.insert(id(31))).expect("a");
    b.update(|c| c.responsible.insert(id(31))).expect("b");
    a.merge(&mut b).expect("merge");
    assert!(a.conflicts().expect("conflicts").is_empty());
    assert!(a.client().expect("c").responsible.contains(&id(31)));
}

#[test]
fn first_counts_under_a_new_gender_from_two_devices_both_survive() {
    let memo = ActivityMemo::new(id(9), "street_work", d(2024, 5, 1), id(2));
    let mut a = ActivityMemoDoc::new_with_actor(&memo, actor(1)).expect("new");
    let mut b = ActivityMemoDoc::load_with_actor(&a.save(), actor(2)).expect("load");
    a.update(|m| m.met.set("female", "16-17", 3)).expect("a");
    b.update(|m| m.met.set("female", "18-20", 2)).expect("b");
    a.splice_text(0, 0, "Kauppatori. ").expect("a text");
    b.set_text("Ilta oli rauhallinen.").expect("b text");
    a.merge(&mut b).expect("merge");
    let m = a.activity_memo().expect("m");
    assert_eq!(m.met.get("female", "16-17"), 3);
    assert_eq!(m.met.get("female", "18-20"), 2);
    assert_eq!(m.met.total(), 5);
    // Both inserts at position 0 survive; Automerge orders them by actor.
    assert!(
        m.text == "Kauppatori. Ilta oli rauhallinen."
            || m.text == "Ilta oli rauhallinen.Kauppatori. ",
        "{:?}",
        m.text
    );
}

#[test]
fn merging_different_documents_is_refused() {
    let mut a = ClientDoc::new(&fixture()).expect("a");
    let mut other = fixture();
    other.id = id(99);
    let mut b = ClientDoc::new(&other).expect("b");
    assert!(matches!(a.merge(&mut b), Err(DocError::DifferentDocument)));
}

#[test]
fn fresh_actor_per_instance() {
    let mut a = BasicDoc::new(&fixture().split().0).expect("a");
    let bytes = a.save();
    let b = BasicDoc::load(&bytes).expect("b");
    let c = BasicDoc::load(&bytes).expect("c");
    assert_ne!(a.actor(), b.actor());
    assert_ne!(b.actor(), c.actor());
    assert_eq!(
        BasicDoc::load_with_actor(&bytes, actor(7))
            .expect("d")
            .actor(),
        &actor(7)
    );
}

#[test]
fn own_codes_of_an_unknown_list_are_kept_but_not_read() {
    let mut org = Organisation::new(id(50), "Esimerkki ry");
    org.retire_code(crate::codes::CodeList::Gender, "other");
    let mut doc = OrgDoc::new(&org).expect("new");
    // A newer version added a code list this one does not know.
    let am = doc.as_automerge_mut();
    let retired = match am.get(ROOT, "retired_codes").expect("get") {
        Some((_, id)) => id,
        None => panic!("retired_codes missing"),
    };
    am.put(&retired, "future_list/x", true).expect("put");
    am.commit();
    assert_eq!(doc.organisation().expect("hydrate"), org);
    doc.update(|o| o.name = "Esimerkki rf".into())
        .expect("update");
    let am = doc.as_automerge();
    assert!(am.get(&retired, "future_list/x").expect("get").is_some());
}
