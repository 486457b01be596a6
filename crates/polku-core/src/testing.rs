//! Proptest strategies for the domain types (tests only).

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use proptest::collection::{btree_map, btree_set, vec};
use proptest::option;
use proptest::prelude::*;
use uuid::Uuid;

use crate::codes::{CodeList, Labels};
use crate::ids::*;
use crate::model::*;

pub fn uuid() -> impl Strategy<Value = Uuid> {
    any::<u128>().prop_map(Uuid::from_u128)
}

macro_rules! id_strategy {
    ($($f:ident => $t:ty),* $(,)?) => {$(
        pub fn $f() -> impl Strategy<Value = $t> {
            uuid().prop_map(<$t>::from)
        }
    )*};
}
id_strategy!(
    client_id => ClientId, period_id => PeriodId, measure_id => MeasureId,
    memo_id => MemoId, attachment_id => AttachmentId, snapshot_id => SnapshotId,
    record_id => RecordId, activity_memo_id => ActivityMemoId, org_id => OrgId,
    unit_id => UnitId, user_id => UserId,
);

pub fn date() -> impl Strategy<Value = NaiveDate> {
    // 1980-01-01 ..= 2045-12-31
    (0i64..24_106).prop_map(|d| {
        NaiveDate::from_ymd_opt(1980, 1, 1).unwrap_or_default()
            + chrono::Days::new(d.unsigned_abs())
    })
}

/// Millisecond precision, as stored.
pub fn instant() -> impl Strategy<Value = DateTime<Utc>> {
    (0i64..2_500_000_000_000).prop_map(|ms| DateTime::from_timestamp_millis(ms).unwrap_or_default())
}

/// Short free text with non-ASCII letters, emoji and newlines.
pub fn text() -> impl Strategy<Value = String> {
    vec(
        prop_oneof![
            6 => "[a-zA-Z ]",
            2 => "[äöåÄÖÅ]",
            1 => Just("\n".to_owned()),
            1 => Just("👍🏽".to_owned()),
            1 => Just("e\u{301}".to_owned()),
            1 => "\\PC",
        ],
        0..24,
    )
    .prop_map(|v| v.concat())
}

pub fn code() -> impl Strategy<Value = String> {
    "[a-z0-9_.-]{1,10}"
}

fn opt<S: Strategy>(s: S) -> impl Strategy<Value = Option<S::Value>> {
    option::of(s)
}

fn enum_of<T: Copy + std::fmt::Debug + 'static>(all: &'static [T]) -> impl Strategy<Value = T> {
    proptest::sample::select(all)
}

pub fn basic() -> impl Strategy<Value = BasicData> {
    (
        (text(), text(), opt(date()), opt(code()), opt(code())),
        (
            opt("[0-9]{6}[-+A][0-9]{3}[0-9A-Y]"),
            text(),
            text(),
            (text(), "[0-9]{5}", text()),
        ),
    )
        .prop_map(
            |(
                (first_name, last_name, birth_date, gender, mother_tongue),
                (henkilotunnus, email, phone, (street, postal_code, city)),
            )| BasicData {
                first_name,
                last_name,
                birth_date,
                gender,
                mother_tongue,
                henkilotunnus,
                email,
                phone,
                address: Address {
                    street,
                    postal_code,
                    city,
                },
            },
        )
}

pub fn background() -> impl Strategy<Value = Background> {
    vec(text(), 8).prop_map(|mut v| Background {
        other: v.pop().unwrap_or_default(),
        family: v.pop().unwrap_or_default(),
        health: v.pop().unwrap_or_default(),
        goal: v.pop().unwrap_or_default(),
        strengths: v.pop().unwrap_or_default(),
        skills: v.pop().unwrap_or_default(),
        work_experience: v.pop().unwrap_or_default(),
        education: v.pop().unwrap_or_default(),
    })
}

pub fn snapshot() -> impl Strategy<Value = SituationSnapshot> {
    (
        snapshot_id(),
        date(),
        opt(period_id()),
        enum_of(SnapshotPhase::ALL),
        (
            opt(code()),
            opt(code()),
            opt(code()),
            opt(code()),
            opt(code()),
        ),
    )
        .prop_map(
            |(id, date, period, phase, (he, es, ma, li, ho))| SituationSnapshot {
                id,
                date,
                period,
                phase,
                highest_education: he,
                education_status: es,
                main_activity: ma,
                livelihood: li,
                housing: ho,
            },
        )
}

pub fn measure() -> impl Strategy<Value = Measure> {
    (
        measure_id(),
        code(),
        opt(date()),
        enum_of(MeasureStatus::ALL),
        opt(date()),
    )
        .prop_map(|(id, code, start, status, end)| Measure {
            id,
            code,
            start,
            status,
            end,
        })
}

pub fn period() -> impl Strategy<Value = Period> {
    (
        period_id(),
        (opt(code()), opt(date()), opt(date()), any::<bool>()),
        vec(measure(), 0..3),
        (opt(code()), text(), text()),
    )
        .prop_map(
            |(
                id,
                (arrival_route, start, end, closed),
                measures,
                (outcome, goals, final_assessment),
            )| Period {
                id,
                arrival_route,
                start,
                end,
                closed,
                measures: measures.into_iter().map(|m| (m.id, m)).collect(),
                outcome,
                referral: None,
                goals,
                final_assessment,
            },
        )
}

pub fn memo() -> impl Strategy<Value = Memo> {
    (memo_id(), date(), user_id(), code(), text()).prop_map(|(id, date, author, kind, text)| Memo {
        id,
        date,
        author,
        kind,
        text,
        deleted: None,
    })
}

pub fn attachment() -> impl Strategy<Value = AttachmentRef> {
    (
        attachment_id(),
        text(),
        "[a-z]{1,8}/[a-z]{1,8}",
        any::<u64>(),
        "[0-9a-f]{64}",
        instant(),
        opt(memo_id()),
    )
        .prop_map(
            |(id, file_name, media_type, size, blake3_hex, added_at, memo)| AttachmentRef {
                id,
                file_name,
                media_type,
                size,
                blake3_hex,
                added_at,
                memo,
            },
        )
}

pub fn referral() -> impl Strategy<Value = Referral> {
    (record_id(), code(), date(), text(), opt(date())).prop_map(
        |(id, source, received, follow_up, follow_up_decided)| Referral {
            id,
            source,
            received,
            follow_up,
            follow_up_decided,
        },
    )
}

pub fn consent() -> impl Strategy<Value = Consent> {
    (
        record_id(),
        enum_of(ConsentTopic::ALL),
        text(),
        date(),
        opt(date()),
    )
        .prop_map(|(id, topic, note, given, withdrawn)| Consent {
            id,
            topic,
            note,
            given,
            withdrawn,
        })
}

pub fn disclosure() -> impl Strategy<Value = Disclosure> {
    (record_id(), text(), text(), date(), text()).prop_map(|(id, what, recipient, date, basis)| {
        Disclosure {
            id,
            what,
            recipient,
            date,
            basis,
        }
    })
}

pub fn follow_up() -> impl Strategy<Value = FollowUp> {
    (
        record_id(),
        opt(period_id()),
        enum_of(FollowUpInterval::ALL),
        date(),
        opt(date()),
        opt(code()),
        text(),
    )
        .prop_map(
            |(id, period, interval, due, done, result, notes)| FollowUp {
                id,
                period,
                interval,
                due,
                done,
                result,
                notes,
            },
        )
}

fn keyed<T: std::fmt::Debug, K: Ord + std::fmt::Debug>(
    s: impl Strategy<Value = T>,
    n: std::ops::Range<usize>,
    key: fn(&T) -> K,
) -> impl Strategy<Value = BTreeMap<K, T>> {
    vec(s, n).prop_map(move |v| v.into_iter().map(|x| (key(&x), x)).collect())
}

pub fn client() -> impl Strategy<Value = Client> {
    (
        (
            client_id(),
            instant(),
            basic(),
            background(),
            opt(unit_id()),
            btree_set(user_id(), 0..3),
        ),
        (
            keyed(snapshot(), 0..3, |s| s.id),
            keyed(period(), 0..3, |p| p.id),
            keyed(memo(), 0..4, |m| m.id),
            keyed(attachment(), 0..2, |a| a.id),
        ),
        (
            keyed(referral(), 0..2, |r| r.id),
            keyed(consent(), 0..2, |c| c.id),
            keyed(disclosure(), 0..2, |d| d.id),
            keyed(follow_up(), 0..2, |f| f.id),
        ),
    )
        .prop_map(
            |(
                (id, created_at, basic, background, unit, responsible),
                (snapshots, periods, memos, attachments),
                (referrals, consents, disclosures, follow_ups),
            )| Client {
                id,
                created_at,
                basic,
                background,
                unit,
                responsible,
                snapshots,
                periods,
                memos,
                attachments,
                referrals,
                consents,
                disclosures,
                follow_ups,
            },
        )
}

pub fn met_counts() -> impl Strategy<Value = MetCounts> {
    btree_map(
        "[a-z]{1,6}",
        btree_map("[0-9]{1,2}-[0-9]{0,2}", any::<u32>(), 1..3),
        0..3,
    )
    .prop_map(MetCounts)
}

pub fn activity_memo() -> impl Strategy<Value = ActivityMemo> {
    (
        (activity_memo_id(), code(), date(), any::<u32>(), text()),
        (unit_id(), btree_set(user_id(), 0..3), met_counts(), text()),
    )
        .prop_map(
            |((id, kind, date, duration_minutes, place), (unit, workers, met, text))| {
                ActivityMemo {
                    id,
                    kind,
                    date,
                    duration_minutes,
                    place,
                    unit,
                    workers,
                    met,
                    text,
                    deleted: None,
                }
            },
        )
}

pub fn labels() -> impl Strategy<Value = Labels> {
    (text(), text(), text()).prop_map(|(fi, sv, en)| Labels { fi, sv, en })
}

pub fn own_code() -> impl Strategy<Value = OwnCode> {
    (code(), labels(), opt(code())).prop_map(|(code, labels, parent)| OwnCode {
        code,
        labels,
        parent,
    })
}

/// A per-user rights adjustment, any field given or not.
pub fn rights_adjustment() -> impl Strategy<Value = crate::rights::RightsAdjustment> {
    use crate::rights::{AdminRight, Scope};
    (
        opt(btree_set(enum_of(&AdminRight::ALL), 0..4)),
        opt(enum_of(&Scope::ALL)),
        opt(enum_of(&Scope::ALL)),
        opt(any::<bool>()),
        opt(any::<bool>()),
    )
        .prop_map(|(admin, view, modify, basic_data_only, memos)| {
            crate::rights::RightsAdjustment {
                admin,
                view,
                modify,
                basic_data_only,
                memos,
            }
        })
}

pub fn organisation() -> impl Strategy<Value = Organisation> {
    let unit = (unit_id(), text(), opt("[0-9]{3}"), any::<bool>()).prop_map(
        |(id, name, municipality, active)| Unit {
            id,
            name,
            municipality,
            active,
        },
    );
    let user = (
        user_id(),
        code(),
        text(),
        enum_of(Role::ALL),
        btree_set(unit_id(), 0..3),
        any::<bool>(),
        opt(rights_adjustment()),
    )
        .prop_map(
            |(id, login, display_name, role, units, active, rights)| User {
                id,
                login,
                display_name,
                role,
                units,
                active,
                rights,
            },
        );
    let device = ("[0-9a-f]{64}", user_id(), text(), instant(), opt(instant())).prop_map(
        |(node_id, user, label, enrolled_at, revoked_at)| Device {
            node_id,
            user,
            label,
            enrolled_at,
            revoked_at,
        },
    );
    let own_codes = btree_map(
        enum_of(CodeList::ALL),
        vec(own_code(), 1..3).prop_map(|v| {
            v.into_iter()
                .map(|c| (c.code.clone(), c))
                .collect::<BTreeMap<_, _>>()
        }),
        0..3,
    );
    let retired = btree_map(enum_of(CodeList::ALL), btree_set(code(), 1..3), 0..3);
    (
        (
            org_id(),
            text(),
            keyed(unit, 0..3, |u| u.id),
            keyed(user, 0..3, |u| u.id),
        ),
        (
            own_codes,
            retired,
            (0u32..10, 0u32..100, opt(1u32..240), opt(2u32..20)),
            keyed(device, 0..3, |d| d.node_id.clone()),
        ),
    )
        .prop_map(
            |(
                (id, name, units, users),
                (own_codes, retired_codes, (r, l, idle, small), devices),
            )| {
                Organisation {
                    id,
                    name,
                    units,
                    users,
                    own_codes,
                    retired_codes,
                    settings: Settings {
                        retention_years: r,
                        offline_lease_days: l,
                        idle_lock_minutes: idle,
                        small_cell_threshold: small,
                    },
                    devices,
                }
            },
        )
}
