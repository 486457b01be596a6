//! Subject access (tarkastusoikeus, issue 11): the export of a fixture
//! client holds every field and memo of the fixture, the history of a
//! corrected field, and the audit entries of two different users who viewed
//! it; a name with HTML in it is text on the page; the export is audited and
//! needs the audit right.

use chrono::{NaiveDate, Utc};
use polku_api::{ApiError, AuditQuery, ClientInput, ExportLang, PeriodInput, ReferralInput};
use polku_scenarios::{PASSWORD, add_worker, demo_workspace, login};

const MAIJA_PW: &str = "maijan-salasana-1";
const PEKKA_PW: &str = "pekan-salasana-1";

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("date")
}

#[test]
fn the_export_holds_every_field_memo_correction_and_view_and_escapes_typed_html() {
    let dir = tempfile::tempdir().expect("dir");
    let mut admin = demo_workspace(dir.path(), 2);
    add_worker(&mut admin, dir.path(), "maija", "Keskusta", MAIJA_PW);
    add_worker(&mut admin, dir.path(), "pekka", "Keskusta", PEKKA_PW);
    admin.close().expect("close");
    let now = Utc::now();

    // The fixture, entered by maija.
    let mut maija = login(dir.path(), "maija", MAIJA_PW);
    let id = maija
        .add_client(
            ClientInput {
                first_name: "<img src=x onerror=alert(1)>Aino".into(),
                last_name: "Tarkastaja & Co".into(),
                birth_date: Some(date(2008, 5, 17)),
                gender: Some("female".into()),
                mother_tongue: Some("fi".into()),
                unit: Some("Keskusta".into()),
            },
            now,
        )
        .expect("client");
    maija
        .update_basic(id, now, |b| b.phone = "040 111 2222".into())
        .expect("phone");
    maija
        .update_basic(id, now, |b| b.phone = "040 333 4444".into())
        .expect("corrected phone");
    maija
        .add_memo(id, "Ensimmäinen tapaaminen kirjastossa.", None, now)
        .expect("memo");
    maija
        .add_memo(id, "Toinen tapaaminen: <b>opiskelu</b>.", None, now)
        .expect("memo");
    maija
        .set_background(
            id,
            polku_core::model::BackgroundField::Health,
            "Uniongelmia.",
            now,
        )
        .expect("background");
    let referral = maija
        .add_referral(
            id,
            ReferralInput {
                source: "basic_education".into(),
                received: Some(date(2026, 2, 1)),
                follow_up: "Yhteydenotto viikon sisällä.".into(),
                follow_up_decided: None,
            },
            now,
        )
        .expect("referral");
    maija
        .open_period(
            id,
            PeriodInput {
                start: Some(date(2026, 2, 3)),
                arrival_route: Some("young_person".into()),
                referral: Some(referral),
                goals: "Opiskelupaikka syksyksi.".into(),
            },
            now,
        )
        .expect("period");
    maija
        .add_attachment(id, &b"liitteen sisalto"[..], "todistus.pdf", now)
        .expect("attachment");
    maija.close().expect("close");
    // A second user views the client.
    let mut pekka = login(dir.path(), "pekka", PEKKA_PW);
    pekka.client_view(id, now).expect("pekka views");
    // A worker without the audit right may not export.
    assert!(matches!(
        pekka.subject_access(id, ExportLang::Fi, now),
        Err(ApiError::Denied(_))
    ));
    pekka.close().expect("close");

    let mut admin = login(dir.path(), "admin", PASSWORD);
    let export = admin
        .subject_access(id, ExportLang::Fi, now)
        .expect("export");
    let json = &export.json;
    for needle in [
        "Tarkastaja & Co",
        "2008-05-17",
        "040 333 4444",
        "Ensimmäinen tapaaminen kirjastossa.",
        "Toinen tapaaminen: <b>opiskelu</b>.",
        "Uniongelmia.",
        "Yhteydenotto viikon sisällä.",
        "Opiskelupaikka syksyksi.",
        "todistus.pdf",
        "basic_education",
        "young_person",
    ] {
        let quoted = serde_json::to_string(needle).expect("json");
        assert!(
            json.contains(&quoted[1..quoted.len() - 1]),
            "the JSON export lacks {needle}"
        );
    }
    // The correction shows: both phone values, each with who set it.
    let phones: Vec<_> = export
        .data
        .field_history
        .iter()
        .filter(|c| c.field == "basic.phone")
        .collect();
    assert_eq!(phones.len(), 2, "{phones:?}");
    assert_eq!(phones[0].value, "040 111 2222");
    assert_eq!(phones[1].value, "040 333 4444");
    assert!(phones.iter().all(|c| c.by.as_deref() == Some("maija")));
    // Audit entries of both users who viewed or changed it.
    let users: std::collections::BTreeSet<_> = export
        .data
        .audit
        .iter()
        .filter(|r| r.action == "view")
        .filter_map(|r| r.user.clone())
        .collect();
    assert!(users.contains("pekka"), "{users:?}");
    assert!(users.contains("admin"), "{users:?}");
    assert!(
        export
            .data
            .audit
            .iter()
            .any(|r| r.user.as_deref() == Some("maija") && r.action == "create")
    );

    // The page: Finnish, everything typed shown as text.
    let html = &export.html;
    assert!(html.contains("<html lang=\"fi\">"));
    assert!(html.contains("Rekisteröidyn tiedot"));
    assert!(html.contains("Käyttöloki"));
    assert!(!html.contains("<img"), "typed HTML became markup");
    assert!(!html.contains("<b>opiskelu"), "typed HTML became markup");
    assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;Aino"));
    assert!(html.contains("Tarkastaja &amp; Co"));
    assert!(
        html.contains("040 111 2222"),
        "the old value is on the page"
    );
    let sv = admin
        .subject_access(id, ExportLang::Sv, now)
        .expect("export sv");
    assert!(sv.html.contains("<html lang=\"sv\">"));
    assert!(sv.html.contains("Användningslogg"));

    // The export is itself audited, with the client's id only.
    let rows = admin
        .audit_list(
            &AuditQuery {
                client: Some(id),
                ..Default::default()
            },
            now,
        )
        .expect("audit");
    assert!(
        rows.iter()
            .any(|r| r.action == "export" && r.detail == "subject_access"),
        "{rows:#?}"
    );
}
