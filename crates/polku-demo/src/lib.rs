//! Synthetic, realistic demo data for Polku: invented Finnish-looking people,
//! periods (jaksot), measures, memos and activity memos spread over the current
//! and the previous year. Deterministic: the same seed gives the same data.
//!
//! Nothing here is a real person: last names are invented, phone numbers are in a
//! reserved range and e-mail addresses use the `.invalid` domain.

pub mod names;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, Days, NaiveDate, Utc};
use polku_core::model::{
    ActivityMemo, Address, Client, Consent, ConsentTopic, Measure, MeasureStatus, Memo, Period,
    Referral, Role, SituationSnapshot, SnapshotPhase, Unit, User,
};
use polku_core::{
    ActivityMemoId, ClientId, MeasureId, MemoId, PeriodId, RecordId, SnapshotId, UnitId, UserId,
};
use rand::distr::Distribution;
use rand::distr::weighted::WeightedIndex;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// How much demo data to make.
#[derive(Debug, Clone)]
pub struct DemoConfig {
    /// Number of clients.
    pub clients: usize,
    /// Seed of the generator.
    pub seed: u64,
    /// "Today": periods and memos are spread from 1 January of the previous year up to it.
    pub today: NaiveDate,
    /// Memos per client: `None` for a realistic 1–12, `Some(n)` for exactly n (benchmarks).
    pub memos_per_client: Option<usize>,
}

/// Invented staff: units (yksiköt) and workers to attach demo clients to.
#[derive(Debug, Clone)]
pub struct Staff {
    /// Units of the organisation.
    pub units: Vec<Unit>,
    /// Workers (role worker), each in one unit.
    pub workers: Vec<User>,
}

/// Generated documents.
#[derive(Debug, Clone)]
pub struct DemoData {
    /// Client documents.
    pub clients: Vec<Client>,
    /// Activity memo (toimintamuistio) documents.
    pub activity_memos: Vec<ActivityMemo>,
}

impl DemoData {
    /// Number of client memos over all clients.
    pub fn memo_count(&self) -> usize {
        self.clients.iter().map(|c| c.memos.len()).sum()
    }
}

/// Two units and four workers, the same for every call with the same seed.
pub fn staff(seed: u64) -> Staff {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5747_4146);
    let base_ms = 1_704_067_200_000; // 2024-01-01
    let units: Vec<Unit> = ["Keskusta", "Itä"]
        .iter()
        .map(|name| Unit {
            id: UnitId::from_parts(base_ms, rng.random()),
            name: (*name).to_owned(),
            municipality: Some("Demola".to_owned()),
            active: true,
        })
        .collect();
    let workers = (0..4)
        .map(|i| {
            let gender = if i % 2 == 0 { "female" } else { "male" };
            let first = names::first_name(&mut rng, gender);
            let last = names::last_name(&mut rng);
            let login = format!("worker{}", i + 1);
            User {
                id: UserId::from_parts(base_ms, rng.random()),
                login,
                display_name: format!("{first} {last}"),
                role: Role::Worker,
                units: BTreeSet::from([units[i % units.len()].id]),
                active: true,
                rights: None,
            }
        })
        .collect();
    Staff { units, workers }
}

/// Generates clients and activity memos for `staff`.
pub fn generate(config: &DemoConfig, staff: &Staff) -> DemoData {
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    let first_day = NaiveDate::from_ymd_opt(config.today.year() - 1, 1, 1).unwrap_or(config.today);
    let span_days = (config.today - first_day).num_days().max(1) as u64;
    let clients = (0..config.clients)
        .map(|_| client(&mut rng, config, staff, first_day, span_days))
        .collect();
    let activity_memos = (0..config.clients.div_ceil(4))
        .map(|_| activity_memo(&mut rng, staff, first_day, span_days))
        .collect();
    DemoData {
        clients,
        activity_memos,
    }
}

fn weighted<'a>(rng: &mut ChaCha8Rng, items: &[(&'a str, u32)]) -> &'a str {
    match WeightedIndex::new(items.iter().map(|(_, w)| *w)) {
        Ok(dist) => items[dist.sample(rng)].0,
        Err(_) => items[0].0,
    }
}

fn pick<'a>(rng: &mut ChaCha8Rng, items: &[&'a str]) -> &'a str {
    items.choose(rng).copied().unwrap_or("other")
}

fn day(first_day: NaiveDate, offset: u64) -> NaiveDate {
    first_day
        .checked_add_days(Days::new(offset))
        .unwrap_or(first_day)
}

fn instant(date: NaiveDate) -> DateTime<Utc> {
    date.and_hms_opt(9, 0, 0).unwrap_or_default().and_utc()
}

fn millis(date: NaiveDate) -> u64 {
    u64::try_from(instant(date).timestamp_millis()).unwrap_or(0)
}

const ARRIVAL_ROUTES: &[(&str, u32)] = &[
    ("basic_education", 10),
    ("education_provider", 18),
    ("defence_forces", 6),
    ("civil_service", 2),
    ("employment_services", 14),
    ("social_services", 12),
    ("health_services", 5),
    ("youth_services", 6),
    ("outreach_contact", 12),
    ("young_person", 8),
    ("family", 5),
    ("other", 2),
];
const MEASURES: &[&str] = &[
    "guidance",
    "support_conversation",
    "service_referral",
    "accompanied_transfer",
    "education_application",
    "job_search",
    "benefits",
    "housing_support",
    "health_wellbeing",
    "everyday_life",
    "workshop_referral",
    "group_activity",
];
const OUTCOMES: &[&str] = &[
    "vocational",
    "general_upper_secondary",
    "preparatory",
    "apprenticeship",
    "employment",
    "workshop",
    "rehabilitation",
    "employment_services",
    "social_services",
    "no_need",
    "lost_contact",
    "moved",
];
const MAIN_ACTIVITIES: &[&str] = &[
    "student",
    "employed",
    "unemployed",
    "workshop",
    "rehabilitation",
    "outside",
];
const LIVELIHOODS: &[&str] = &[
    "wage",
    "study_benefit",
    "unemployment_benefit",
    "social_assistance",
    "parents",
    "no_income",
];
const HOUSING: &[&str] = &["with_parents", "rental", "student_housing", "supported"];
const EDUCATION: &[&str] = &[
    "basic",
    "preparatory",
    "vocational",
    "general_upper_secondary",
];
const EDUCATION_STATUS: &[&str] = &["not_studying", "studying", "applying", "discontinued"];
const MEMO_TYPES: &[&str] = &["meeting", "phone", "message", "online", "accompanying"];
const REFERRAL_SOURCES: &[&str] = &[
    "basic_education",
    "education_provider",
    "defence_forces",
    "employment_services",
    "social_services",
    "young_person",
    "family",
];

fn client(
    rng: &mut ChaCha8Rng,
    config: &DemoConfig,
    staff: &Staff,
    first_day: NaiveDate,
    span_days: u64,
) -> Client {
    let start = day(first_day, rng.random_range(0..span_days));
    let mut c = Client::new(
        ClientId::from_parts(millis(start), rng.random()),
        instant(start),
    );

    let gender = weighted(
        rng,
        &[("male", 50), ("female", 45), ("other", 3), ("unknown", 2)],
    );
    let first = names::first_name(rng, gender).to_owned();
    let last = names::last_name(rng);
    c.basic.email = names::email(&first, &last);
    c.basic.phone = names::phone(rng);
    c.basic.address = Address {
        street: names::address(rng),
        postal_code: format!("{:05}", rng.random_range(100..99_999)),
        city: String::new(),
    };
    c.basic.first_name = first;
    c.basic.last_name = last;
    let birth_year = rng.random_range(1996..=2011);
    c.basic.birth_date =
        NaiveDate::from_yo_opt(birth_year, rng.random_range(1..=365)).filter(|d| *d < start);
    c.basic.gender = Some(gender.to_owned());
    // A few clients miss their mother tongue, as in real registers.
    if rng.random_bool(0.95) {
        c.basic.mother_tongue = Some(
            weighted(
                rng,
                &[
                    ("fi", 80),
                    ("sv", 6),
                    ("se", 1),
                    ("other", 12),
                    ("unknown", 1),
                ],
            )
            .to_owned(),
        );
    }

    let worker = staff.workers.choose(rng).cloned();
    if let Some(w) = &worker {
        c.responsible.insert(w.id);
        c.unit = w.units.iter().next().copied();
    }
    let author = worker.map(|w| w.id).unwrap_or_default();
    if rng.random_bool(0.4) {
        c.background.goal = "Haluaa opiskelupaikan ja oman asunnon.".to_owned();
    }

    // One period, sometimes a second one after the first has ended.
    let mut period_start = start;
    let mut memo_days: Vec<(NaiveDate, NaiveDate)> = Vec::new();
    let periods = if rng.random_bool(0.15) { 2 } else { 1 };
    for n in 0..periods {
        let mut p = Period::new(PeriodId::from_parts(millis(period_start), rng.random()));
        p.arrival_route = Some(weighted(rng, ARRIVAL_ROUTES).to_owned());
        p.start = Some(period_start);
        p.goals = "Arjen rytmi ja koulutukseen hakeutuminen.".to_owned();
        for _ in 0..rng.random_range(1..=3) {
            let m_start = day(period_start, rng.random_range(0..30));
            let m = Measure {
                id: MeasureId::from_parts(millis(m_start), rng.random()),
                code: pick(rng, MEASURES).to_owned(),
                start: Some(m_start.min(config.today)),
                status: MeasureStatus::Ongoing,
                end: None,
            };
            p.insert_measure(m);
        }
        let length = rng.random_range(20..400);
        let end = day(period_start, length);
        let ends = n + 1 < periods || (end < config.today && rng.random_bool(0.6));
        let last_day = if ends {
            end.min(config.today)
        } else {
            config.today
        };
        if ends {
            p.end = Some(last_day);
            p.closed = true;
            p.outcome = Some(pick(rng, OUTCOMES).to_owned());
            p.final_assessment = "Jakso päättyi suunnitellusti.".to_owned();
            for m in p.measures.values_mut() {
                m.status = MeasureStatus::Completed;
                m.end = Some(last_day);
            }
        }
        c.snapshots
            .insert_snapshot(snapshot(rng, period_start, p.id, SnapshotPhase::Start));
        if ends {
            c.snapshots
                .insert_snapshot(snapshot(rng, last_day, p.id, SnapshotPhase::End));
        }
        memo_days.push((period_start, last_day));
        let next = day(last_day, rng.random_range(10..90));
        c.periods.insert(p.id, p);
        if next >= config.today {
            break;
        }
        period_start = next;
    }

    let memo_count = config
        .memos_per_client
        .unwrap_or_else(|| rng.random_range(1..=12));
    for _ in 0..memo_count {
        let (from, to) = memo_days.choose(rng).copied().unwrap_or((start, start));
        let span = (to - from).num_days().max(1) as u64;
        let date = day(from, rng.random_range(0..span)).min(config.today);
        let memo = Memo {
            id: MemoId::from_parts(millis(date), rng.random()),
            date,
            author,
            kind: pick(rng, MEMO_TYPES).to_owned(),
            text: names::memo_text(rng),
            deleted: None,
        };
        c.memos.insert(memo.id, memo);
    }

    if rng.random_bool(0.3) {
        let r = Referral {
            id: RecordId::from_parts(millis(start), rng.random()),
            source: pick(rng, REFERRAL_SOURCES).to_owned(),
            received: start,
            follow_up: "Otetaan yhteyttä viikon sisällä.".to_owned(),
            follow_up_decided: Some(start),
        };
        c.referrals.insert(r.id, r);
    }
    if rng.random_bool(0.2) {
        let consent = Consent {
            id: RecordId::from_parts(millis(start), rng.random()),
            topic: ConsentTopic::FollowUp,
            note: String::new(),
            given: start,
            withdrawn: None,
        };
        c.consents.insert(consent.id, consent);
    }
    c
}

trait InsertSnapshot {
    fn insert_snapshot(&mut self, s: SituationSnapshot);
}

impl InsertSnapshot for BTreeMap<SnapshotId, SituationSnapshot> {
    fn insert_snapshot(&mut self, s: SituationSnapshot) {
        self.insert(s.id, s);
    }
}

fn snapshot(
    rng: &mut ChaCha8Rng,
    date: NaiveDate,
    period: PeriodId,
    phase: SnapshotPhase,
) -> SituationSnapshot {
    let mut s = SituationSnapshot::new(
        SnapshotId::from_parts(millis(date), rng.random()),
        date,
        phase,
    );
    s.period = Some(period);
    s.highest_education = Some(pick(rng, EDUCATION).to_owned());
    s.education_status = Some(pick(rng, EDUCATION_STATUS).to_owned());
    s.main_activity = Some(pick(rng, MAIN_ACTIVITIES).to_owned());
    s.livelihood = Some(pick(rng, LIVELIHOODS).to_owned());
    s.housing = Some(pick(rng, HOUSING).to_owned());
    s
}

fn activity_memo(
    rng: &mut ChaCha8Rng,
    staff: &Staff,
    first_day: NaiveDate,
    span_days: u64,
) -> ActivityMemo {
    let date = day(first_day, rng.random_range(0..span_days));
    let kind = pick(
        rng,
        &[
            "street_work",
            "online_work",
            "group_meeting",
            "school_visit",
            "training",
        ],
    );
    let unit = staff.units.choose(rng).map(|u| u.id).unwrap_or_default();
    let mut memo = ActivityMemo::new(
        ActivityMemoId::from_parts(millis(date), rng.random()),
        kind,
        date,
        unit,
    );
    memo.duration_minutes = rng.random_range(2..9) * 30;
    memo.place = pick(
        rng,
        &["Keskusta", "Asema", "Nuorisotalo", "Verkko", "Koulu"],
    )
    .to_owned();
    for w in staff.workers.iter().filter(|w| w.units.contains(&unit)) {
        memo.workers.insert(w.id);
    }
    for gender in ["male", "female", "other"] {
        for age in ["16-17", "18-20", "21-24", "25-29"] {
            if rng.random_bool(0.4) {
                memo.met.set(gender, age, rng.random_range(1..8));
            }
        }
    }
    memo.text = names::activity_text(rng).to_owned();
    memo
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(seed: u64) -> DemoConfig {
        DemoConfig {
            clients: 30,
            seed,
            today: NaiveDate::from_ymd_opt(2026, 11, 23).expect("date"),
            memos_per_client: None,
        }
    }

    #[test]
    fn same_seed_same_data() {
        let staff = staff(1);
        let a = generate(&config(7), &staff);
        let b = generate(&config(7), &staff);
        assert_eq!(a.clients, b.clients);
        assert_eq!(a.activity_memos, b.activity_memos);
        let c = generate(&config(8), &staff);
        assert_ne!(a.clients, c.clients);
    }

    #[test]
    fn data_fall_in_the_documented_ranges() {
        let cfg = config(3);
        let data = generate(&cfg, &staff(1));
        assert_eq!(data.clients.len(), 30);
        for c in &data.clients {
            if let Some(b) = c.basic.birth_date {
                assert!((1996..=2011).contains(&b.year()));
            }
            assert!(!c.periods.is_empty());
            assert!(!c.memos.is_empty());
            for p in c.periods.values() {
                let start = p.start.expect("start");
                assert!(start.year() >= 2025 && start <= cfg.today);
                assert!(!p.measures.is_empty());
                if let Some(end) = p.end {
                    assert!(end >= start && end <= cfg.today);
                    assert!(p.outcome.is_some());
                }
            }
            assert!(c.memos.values().all(|m| m.date <= cfg.today));
            assert!(c.basic.email.ends_with(".invalid"));
        }
        assert!(!data.activity_memos.is_empty());
    }

    #[test]
    fn fixed_memo_count_for_benchmarks() {
        let mut cfg = config(2);
        cfg.memos_per_client = Some(50);
        let data = generate(&cfg, &staff(1));
        assert!(data.clients.iter().all(|c| c.memos.len() == 50));
        assert_eq!(data.memo_count(), 30 * 50);
    }
}
