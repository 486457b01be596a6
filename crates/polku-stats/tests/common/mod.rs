//! A hand-made organisation: two units, three workers, 20 clients and 10
//! activity memos, described client by client so that the expected tables
//! in `fixture_report.rs` can be worked out by hand.
//!
//! Every client has a name, birth date, address, memo texts and goals that
//! must never appear in a report (see `exports.rs`).

#![allow(dead_code)]

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use polku_core::anonymised::{AnonymisedRecord, anonymise};
use polku_core::model::{
    ActivityMemo, Client, Measure, MeasureStatus, Memo, Organisation, Period, Referral, Role,
    SituationSnapshot, SnapshotPhase, Unit, User,
};
use polku_core::{
    ActivityMemoId, ClientId, MeasureId, MemoId, OrgId, PeriodId, RecordId, SnapshotId, UnitId,
    UserId,
};

pub fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).expect("date")
}

pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2027, 1, 15, 10, 0, 0)
        .single()
        .expect("time")
}

fn bytes(n: u32) -> [u8; 10] {
    let mut b = [0u8; 10];
    b[..4].copy_from_slice(&n.to_be_bytes());
    b
}

pub const MS: u64 = 1_767_225_600_000; // 2026-01-01

pub fn unit1() -> UnitId {
    UnitId::from_parts(MS, bytes(1))
}
pub fn unit2() -> UnitId {
    UnitId::from_parts(MS, bytes(2))
}
pub fn w1() -> UserId {
    UserId::from_parts(MS, bytes(11))
}
pub fn w2() -> UserId {
    UserId::from_parts(MS, bytes(12))
}
pub fn w3() -> UserId {
    UserId::from_parts(MS, bytes(13))
}
pub fn client_id(n: u32) -> ClientId {
    ClientId::from_parts(MS, bytes(100 + n))
}

pub fn organisation() -> Organisation {
    let mut org = Organisation::new(OrgId::from_parts(MS, bytes(0)), "Etsivät ry");
    for (id, name) in [(unit1(), "Keskusta"), (unit2(), "Itä")] {
        org.insert_unit(Unit {
            id,
            name: name.into(),
            municipality: Some("091".into()),
            active: true,
        });
    }
    for (id, login, name, unit) in [
        (w1(), "aila", "Aila Esimerkki", unit1()),
        (w2(), "bertta", "Bertta Esimerkki", unit1()),
        (w3(), "cilla", "Cilla Esimerkki", unit2()),
    ] {
        org.insert_user(User {
            id,
            login: login.into(),
            display_name: name.into(),
            role: Role::Worker,
            units: BTreeSet::from([unit]),
            active: true,
            rights: None,
        });
    }
    org
}

/// One period as the fixture writes it.
pub struct P {
    pub start: NaiveDate,
    pub end: Option<NaiveDate>,
    pub route: &'static str,
    pub measures: &'static [&'static str],
    pub outcome: Option<&'static str>,
    /// Main activity and livelihood at the start.
    pub at_start: (&'static str, &'static str),
    /// … and at the end (ended periods).
    pub at_end: Option<(&'static str, &'static str)>,
}

/// One client as the fixture writes it.
pub struct C {
    pub n: u32,
    pub first: &'static str,
    pub last: &'static str,
    pub gender: Option<&'static str>,
    pub tongue: &'static str,
    pub born: NaiveDate,
    pub unit: UnitId,
    pub worker: UserId,
    pub periods: Vec<P>,
    pub memos: Vec<(NaiveDate, &'static str)>,
    pub referrals: Vec<(NaiveDate, &'static str)>,
}

/// Free text that must never reach a report.
pub const SECRET_WORDS: &[&str] = &[
    "Salakahvila",
    "Tavoitteena-Zyxw",
    "Loppuarvio-Qwty",
    "Taustaa-Vbnm",
    "Seurantaa-Plok",
    "Kauppatorin-Kulma",
    "Toimintaa-Jhgf",
    "Lintulaaksontie",
    "zefiina@example.invalid",
    "+358401234567",
];

fn snapshot(
    n: &mut u32,
    date: NaiveDate,
    period: PeriodId,
    phase: SnapshotPhase,
    ma: &str,
    lh: &str,
) -> SituationSnapshot {
    *n += 1;
    let mut s = SituationSnapshot::new(SnapshotId::from_parts(MS, bytes(*n)), date, phase);
    s.period = Some(period);
    s.highest_education = Some("basic".into());
    s.education_status = Some("not_studying".into());
    s.main_activity = Some(ma.into());
    s.livelihood = Some(lh.into());
    s.housing = Some("with_parents".into());
    s
}

impl C {
    pub fn build(&self) -> Client {
        let id = client_id(self.n);
        let mut c = Client::new(id, now());
        let mut k = self.n * 1000;
        c.basic.first_name = self.first.into();
        c.basic.last_name = self.last.into();
        c.basic.birth_date = Some(self.born);
        c.basic.gender = self.gender.map(Into::into);
        c.basic.mother_tongue = Some(self.tongue.into());
        c.basic.henkilotunnus = Some(format!("{}A{:03}X", self.born.format("%d%m%y"), self.n));
        c.basic.email = "zefiina@example.invalid".into();
        c.basic.phone = "+358401234567".into();
        c.basic.address.street = "Lintulaaksontie 5".into();
        c.background.family = "Taustaa-Vbnm".into();
        c.unit = Some(self.unit);
        c.responsible.insert(self.worker);
        for p in &self.periods {
            k += 1;
            let mut period = Period::new(PeriodId::from_parts(MS, bytes(k)));
            period.start = Some(p.start);
            period.end = p.end;
            period.closed = p.end.is_some();
            period.arrival_route = Some(p.route.into());
            period.outcome = p.outcome.map(Into::into);
            period.goals = "Tavoitteena-Zyxw".into();
            period.final_assessment = "Loppuarvio-Qwty".into();
            for code in p.measures {
                k += 1;
                period.insert_measure(Measure {
                    id: MeasureId::from_parts(MS, bytes(k)),
                    code: (*code).into(),
                    start: Some(p.start),
                    status: if p.end.is_some() {
                        MeasureStatus::Completed
                    } else {
                        MeasureStatus::Ongoing
                    },
                    end: p.end,
                });
            }
            c.insert_snapshot(snapshot(
                &mut k,
                p.start,
                period.id,
                SnapshotPhase::Start,
                p.at_start.0,
                p.at_start.1,
            ));
            if let (Some(end), Some((ma, lh))) = (p.end, p.at_end) {
                c.insert_snapshot(snapshot(&mut k, end, period.id, SnapshotPhase::End, ma, lh));
            }
            c.insert_period(period);
        }
        for (date, kind) in &self.memos {
            k += 1;
            c.insert_memo(Memo {
                id: MemoId::from_parts(MS, bytes(k)),
                date: *date,
                author: self.worker,
                kind: (*kind).into(),
                text: "Tapasimme Salakahvila-paikassa".into(),
                deleted: None,
            });
        }
        for (date, source) in &self.referrals {
            k += 1;
            c.insert_referral(Referral {
                id: RecordId::from_parts(MS, bytes(k)),
                source: (*source).into(),
                received: *date,
                follow_up: "Seurantaa-Plok".into(),
                follow_up_decided: Some(*date),
            });
        }
        c
    }
}

fn p(
    start: NaiveDate,
    end: Option<NaiveDate>,
    route: &'static str,
    measures: &'static [&'static str],
    outcome: Option<&'static str>,
    at_start: (&'static str, &'static str),
    at_end: Option<(&'static str, &'static str)>,
) -> P {
    P {
        start,
        end,
        route,
        measures,
        outcome,
        at_start,
        at_end,
    }
}

/// The 20 clients. C09 is the one the tests erase; C10 misses its gender;
/// C15's period has no measure; C02 and C13 have periods over New Year; C03
/// turns 18 on 20 March 2026, after his period started.
pub fn clients() -> Vec<C> {
    let (u1, u2) = (unit1(), unit2());
    let (a, b, cc) = (w1(), w2(), w3());
    vec![
        C {
            n: 1,
            first: "Zefiina",
            last: "Qvarnström",
            gender: Some("male"),
            tongue: "fi",
            born: d(2005, 3, 10),
            unit: u1,
            worker: a,
            periods: vec![p(
                d(2026, 2, 1),
                None,
                "education_provider",
                &["guidance"],
                None,
                ("unemployed", "unemployment_benefit"),
                None,
            )],
            memos: vec![(d(2026, 2, 1), "meeting"), (d(2026, 3, 15), "phone")],
            referrals: vec![],
        },
        C {
            n: 2,
            first: "Xanteri",
            last: "Wuorenheimo",
            gender: Some("female"),
            tongue: "fi",
            born: d(2007, 6, 1),
            unit: u1,
            worker: a,
            periods: vec![p(
                d(2025, 11, 15),
                Some(d(2026, 3, 31)),
                "basic_education",
                &["support_conversation", "education_application"],
                Some("vocational"),
                ("outside", "parents"),
                Some(("student", "study_benefit")),
            )],
            memos: vec![(d(2025, 11, 15), "meeting"), (d(2026, 1, 10), "meeting")],
            referrals: vec![],
        },
        C {
            n: 3,
            first: "Yrjänä",
            last: "Zettergren",
            gender: Some("male"),
            tongue: "sv",
            born: d(2008, 3, 20),
            unit: u1,
            worker: b,
            periods: vec![p(
                d(2026, 1, 15),
                None,
                "young_person",
                &["guidance"],
                None,
                ("outside", "parents"),
                None,
            )],
            memos: vec![(d(2026, 1, 15), "meeting")],
            referrals: vec![(d(2026, 1, 10), "basic_education")],
        },
        C {
            n: 4,
            first: "Quintus",
            last: "Xylander",
            gender: Some("female"),
            tongue: "fi",
            born: d(2004, 9, 9),
            unit: u1,
            worker: a,
            periods: vec![],
            memos: vec![(d(2026, 5, 20), "phone")],
            referrals: vec![],
        },
        C {
            n: 5,
            first: "Wilhelmiina",
            last: "Yläjärvi-Öhman",
            gender: Some("male"),
            tongue: "other",
            born: d(2003, 1, 1),
            unit: u2,
            worker: cc,
            periods: vec![p(
                d(2025, 3, 1),
                Some(d(2025, 12, 15)),
                "other",
                &["guidance"],
                Some("employment"),
                ("unemployed", "no_income"),
                Some(("employed", "wage")),
            )],
            memos: vec![(d(2025, 3, 1), "meeting")],
            referrals: vec![],
        },
        C {
            n: 6,
            first: "Väinämöinen",
            last: "Ärjylä",
            gender: Some("female"),
            tongue: "fi",
            born: d(2006, 12, 31),
            unit: u2,
            worker: cc,
            periods: vec![p(
                d(2026, 6, 1),
                Some(d(2026, 10, 31)),
                "social_services",
                &["housing_support", "benefits"],
                Some("employment"),
                ("unemployed", "social_assistance"),
                Some(("employed", "wage")),
            )],
            memos: vec![(d(2026, 6, 1), "meeting"), (d(2026, 9, 1), "home_visit")],
            referrals: vec![],
        },
        C {
            n: 7,
            first: "Ukri",
            last: "Törmänen-Qvist",
            gender: Some("male"),
            tongue: "fi",
            born: d(2001, 7, 7),
            unit: u2,
            worker: cc,
            periods: vec![p(
                d(2025, 9, 1),
                None,
                "outreach_contact",
                &["job_search"],
                None,
                ("unemployed", "unemployment_benefit"),
                None,
            )],
            memos: vec![
                (d(2025, 9, 1), "meeting"),
                (d(2026, 2, 2), "phone"),
                (d(2026, 7, 7), "message"),
            ],
            referrals: vec![],
        },
        C {
            n: 8,
            first: "Saimi",
            last: "Röyttä",
            gender: Some("female"),
            tongue: "fi",
            born: d(2009, 2, 2),
            unit: u1,
            worker: b,
            periods: vec![p(
                d(2026, 3, 1),
                Some(d(2026, 4, 15)),
                "basic_education",
                &["guidance"],
                Some("general_upper_secondary"),
                ("basic_education_pupil", "parents"),
                Some(("student", "parents")),
            )],
            memos: vec![(d(2026, 3, 1), "meeting")],
            referrals: vec![],
        },
        C {
            n: 9,
            first: "Tellervo",
            last: "Pyykköläinen",
            gender: Some("male"),
            tongue: "fi",
            born: d(2005, 5, 5),
            unit: u2,
            worker: cc,
            periods: vec![p(
                d(2026, 1, 20),
                Some(d(2026, 2, 28)),
                "defence_forces",
                &["service_referral"],
                Some("service"),
                ("outside", "no_income"),
                Some(("service", "other")),
            )],
            memos: vec![(d(2026, 1, 20), "meeting")],
            referrals: vec![],
        },
        C {
            n: 10,
            first: "Oiva",
            last: "Näsäkkälä",
            gender: None,
            tongue: "fi",
            born: d(2006, 4, 4),
            unit: u1,
            worker: a,
            periods: vec![p(
                d(2026, 4, 1),
                None,
                "family",
                &["everyday_life"],
                None,
                ("outside", "parents"),
                None,
            )],
            memos: vec![(d(2026, 4, 1), "meeting")],
            referrals: vec![],
        },
        C {
            n: 11,
            first: "Mielikki",
            last: "Lönnqvist",
            gender: Some("male"),
            tongue: "fi",
            born: d(2000, 1, 1),
            unit: u1,
            worker: b,
            periods: vec![p(
                d(2026, 9, 1),
                None,
                "employment_services",
                &["job_search", "benefits"],
                None,
                ("unemployed", "unemployment_benefit"),
                None,
            )],
            memos: vec![(d(2026, 9, 1), "meeting"), (d(2026, 10, 1), "phone")],
            referrals: vec![],
        },
        C {
            n: 12,
            first: "Kyllikki",
            last: "Juvankoski",
            gender: Some("female"),
            tongue: "se",
            born: d(2010, 8, 8),
            unit: u2,
            worker: cc,
            periods: vec![p(
                d(2026, 2, 10),
                Some(d(2026, 8, 20)),
                "basic_education",
                &["support_conversation"],
                Some("basic_education"),
                ("basic_education_pupil", "parents"),
                Some(("basic_education_pupil", "parents")),
            )],
            memos: vec![(d(2026, 2, 10), "meeting")],
            referrals: vec![],
        },
        C {
            n: 13,
            first: "Ilmatar",
            last: "Hyvärilä",
            gender: Some("other"),
            tongue: "fi",
            born: d(2004, 11, 11),
            unit: u1,
            worker: a,
            periods: vec![p(
                d(2025, 6, 1),
                Some(d(2026, 1, 31)),
                "health_services",
                &["health_wellbeing"],
                Some("rehabilitation"),
                ("outside", "sickness_disability"),
                Some(("rehabilitation", "rehabilitation_allowance")),
            )],
            memos: vec![(d(2025, 6, 1), "meeting")],
            referrals: vec![],
        },
        C {
            n: 14,
            first: "Ahti",
            last: "Gröndahl",
            gender: Some("male"),
            tongue: "fi",
            born: d(2002, 2, 2),
            unit: u2,
            worker: cc,
            periods: vec![],
            memos: vec![(d(2025, 12, 1), "phone"), (d(2026, 3, 3), "phone")],
            referrals: vec![],
        },
        C {
            n: 15,
            first: "Lemminkäinen",
            last: "Fagerroos",
            gender: Some("female"),
            tongue: "fi",
            born: d(2005, 10, 10),
            unit: u1,
            worker: b,
            periods: vec![p(
                d(2026, 5, 5),
                None,
                "youth_services",
                &[],
                None,
                ("student", "study_benefit"),
                None,
            )],
            memos: vec![(d(2026, 5, 5), "meeting")],
            referrals: vec![],
        },
        C {
            n: 16,
            first: "Kullervo",
            last: "Eerikäinen",
            gender: Some("male"),
            tongue: "fi",
            born: d(2007, 7, 17),
            unit: u2,
            worker: cc,
            periods: vec![p(
                d(2026, 1, 5),
                Some(d(2026, 12, 20)),
                "education_provider",
                &["education_application"],
                Some("vocational"),
                ("outside", "parents"),
                Some(("student", "study_benefit")),
            )],
            memos: vec![
                (d(2026, 1, 5), "meeting"),
                (d(2026, 6, 6), "meeting"),
                (d(2026, 12, 20), "meeting"),
            ],
            referrals: vec![],
        },
        C {
            n: 17,
            first: "Aino",
            last: "Dahlbergová",
            gender: Some("female"),
            tongue: "other",
            born: d(2008, 12, 12),
            unit: u2,
            worker: cc,
            periods: vec![p(
                d(2026, 7, 1),
                None,
                "social_services",
                &["guidance", "housing_support"],
                None,
                ("outside", "social_assistance"),
                None,
            )],
            memos: vec![(d(2026, 7, 1), "meeting")],
            referrals: vec![],
        },
        C {
            n: 18,
            first: "Joukahainen",
            last: "Castrén",
            gender: Some("male"),
            tongue: "fi",
            born: d(2003, 3, 3),
            unit: u1,
            worker: a,
            periods: vec![
                p(
                    d(2024, 5, 1),
                    Some(d(2025, 5, 1)),
                    "other",
                    &["other"],
                    Some("moved"),
                    ("unemployed", "no_income"),
                    Some(("unemployed", "no_income")),
                ),
                p(
                    d(2026, 3, 10),
                    None,
                    "young_person",
                    &["guidance"],
                    None,
                    ("unemployed", "unemployment_benefit"),
                    None,
                ),
            ],
            memos: vec![(d(2024, 5, 1), "meeting"), (d(2026, 3, 10), "meeting")],
            referrals: vec![],
        },
        C {
            n: 19,
            first: "Pohjolan",
            last: "Bäckström",
            gender: Some("female"),
            tongue: "fi",
            born: d(2006, 6, 6),
            unit: u1,
            worker: b,
            periods: vec![p(
                d(2026, 2, 20),
                Some(d(2026, 6, 30)),
                "education_provider",
                &["guidance", "education_application"],
                Some("declined"),
                ("outside", "parents"),
                Some(("outside", "parents")),
            )],
            memos: vec![(d(2026, 2, 20), "meeting")],
            referrals: vec![(d(2026, 2, 15), "education_provider")],
        },
        C {
            n: 20,
            first: "Louhi",
            last: "Åkerblom",
            gender: Some("male"),
            tongue: "fi",
            born: d(1999, 9, 9),
            unit: u2,
            worker: cc,
            periods: vec![p(
                d(2026, 11, 1),
                None,
                "social_services",
                &["support_conversation"],
                None,
                ("unemployed", "social_assistance"),
                None,
            )],
            memos: vec![(d(2026, 11, 1), "meeting")],
            referrals: vec![(d(2026, 10, 25), "social_services")],
        },
    ]
}

/// The number of the client the tests erase.
pub const ERASED: u32 = 9;

/// Live clients (all but the erased one) and the erased one's anonymised record.
pub fn data() -> (Vec<Client>, Vec<AnonymisedRecord>) {
    let mut live = Vec::new();
    let mut erased = Vec::new();
    for c in clients() {
        let client = c.build();
        if c.n == ERASED {
            erased.push(anonymise(&client, [0x5a; 16]));
        } else {
            live.push(client);
        }
    }
    (live, erased)
}

/// Every client live (as before the erasure).
pub fn all_clients() -> Vec<Client> {
    clients().iter().map(C::build).collect()
}

/// Number, date, kind, unit, workers, (gender, age group, count) met, minutes.
type ActivityRow<'a> = (
    u32,
    NaiveDate,
    &'a str,
    UnitId,
    &'a [UserId],
    &'a [(&'a str, &'a str, u32)],
    u32,
);

pub fn activity_memos() -> Vec<ActivityMemo> {
    let (u1, u2) = (unit1(), unit2());
    let rows: [ActivityRow<'_>; 10] = [
        (
            1,
            d(2026, 1, 10),
            "street_work",
            u1,
            &[w1()],
            &[("male", "16-17", 2), ("female", "16-17", 1)],
            90,
        ),
        (
            2,
            d(2026, 2, 14),
            "online_work",
            u1,
            &[w2()],
            &[("female", "18-20", 3)],
            60,
        ),
        (
            3,
            d(2026, 3, 20),
            "group_meeting",
            u2,
            &[w3()],
            &[("male", "18-20", 2), ("male", "21-24", 1)],
            120,
        ),
        (
            4,
            d(2026, 4, 30),
            "school_visit",
            u1,
            &[w1(), w2()],
            &[("female", "16-17", 4), ("male", "16-17", 5)],
            180,
        ),
        (
            5,
            d(2026, 5, 15),
            "street_work",
            u2,
            &[w3()],
            &[("male", "21-24", 2)],
            60,
        ),
        (
            6,
            d(2026, 6, 20),
            "event",
            u1,
            &[w1()],
            &[("female", "18-20", 2), ("other", "18-20", 1)],
            240,
        ),
        (
            7,
            d(2026, 8, 31),
            "street_work",
            u1,
            &[w2()],
            &[("male", "18-20", 3)],
            90,
        ),
        (
            8,
            d(2026, 9, 10),
            "online_work",
            u2,
            &[w3()],
            &[("female", "21-24", 1)],
            30,
        ),
        (9, d(2026, 12, 31), "training", u1, &[w1()], &[], 120),
        (
            10,
            d(2025, 12, 31),
            "street_work",
            u2,
            &[w3()],
            &[("male", "18-20", 9)],
            60,
        ),
    ];
    rows.iter()
        .map(|(n, date, kind, unit, workers, met, minutes)| {
            let mut m = ActivityMemo::new(
                ActivityMemoId::from_parts(MS, bytes(500 + n)),
                *kind,
                *date,
                *unit,
            );
            m.duration_minutes = *minutes;
            m.place = "Kauppatorin-Kulma".into();
            m.text = "Toimintaa-Jhgf".into();
            m.workers = workers.iter().copied().collect();
            for (g, a, count) in *met {
                m.met.set(g, a, *count);
            }
            m
        })
        .collect()
}
