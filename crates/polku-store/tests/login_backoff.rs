//! Failed logins are recorded before unlock; from the fifth on, attempts are
//! throttled without running argon2id.

mod common;

use std::path::Path;

use chrono::{DateTime, TimeDelta, Utc};
use common::*;
use polku_core::UserId;
use polku_store::{
    AuthFailure, AuthFailureReason, DerivedKey, KdfParams, KdfTally, LockedStore, NewUser, Store,
    StoreError,
};

/// Now, truncated to the millisecond precision the rows keep.
fn now_ms() -> DateTime<Utc> {
    DateTime::from_timestamp_millis(Utc::now().timestamp_millis()).expect("time")
}

fn ms(n: i64) -> TimeDelta {
    TimeDelta::milliseconds(n)
}

fn attempt(
    dir: &Path,
    login: &str,
    password: &str,
    at: DateTime<Utc>,
) -> Result<DerivedKey, StoreError> {
    LockedStore::open(dir)
        .expect("open")
        .derive_key_at(login, password, at)
}

fn unlock_at(dir: &Path, at: DateTime<Utc>) -> Store {
    let locked = LockedStore::open(dir).expect("open");
    let key = locked.derive_key_at(LOGIN, PASSWORD, at).expect("derive");
    locked.unlock(key).expect("unlock")
}

/// The recorded failures, read by unlocking at `at` (which records nothing
/// when it succeeds).
fn failures(dir: &Path, at: DateTime<Utc>) -> Vec<AuthFailure> {
    unlock_at(dir, at).auth_failures().expect("failures")
}

fn reasons(f: &[AuthFailure]) -> Vec<AuthFailureReason> {
    f.iter().map(|f| f.reason).collect()
}

fn is_wrong(r: Result<DerivedKey, StoreError>) -> bool {
    matches!(r, Err(StoreError::WrongPassword))
}

fn throttled(r: Result<DerivedKey, StoreError>) -> Option<u64> {
    match r {
        Err(StoreError::TooManyAttempts { retry_after_secs }) => Some(retry_after_secs),
        _ => None,
    }
}

#[test]
fn failures_are_recorded_with_user_and_reason() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, me) = new_store(dir.path());
    assert!(store.auth_failures().expect("failures").is_empty());
    drop(store);
    let t0 = now_ms();
    assert!(is_wrong(attempt(dir.path(), LOGIN, "wrong", t0)));
    assert!(matches!(
        attempt(dir.path(), "Ville Virtanen", PASSWORD, t0 + ms(1500)),
        Err(StoreError::UnknownUser)
    ));
    // An unusable name is an input error, not a failed login.
    assert!(matches!(
        attempt(dir.path(), "  ", PASSWORD, t0),
        Err(StoreError::InvalidInput { .. })
    ));
    assert_eq!(count_rows(dir.path(), "auth_failures"), 2);

    let f = failures(dir.path(), t0 + ms(2000));
    assert_eq!(f.len(), 2, "a successful unlock records nothing: {f:?}");
    assert!(f[0].id < f[1].id);
    assert_eq!(
        (f[0].time, f[0].user_id, f[0].reason),
        (t0, Some(me), AuthFailureReason::WrongPassword)
    );
    assert_eq!(
        (f[1].time, f[1].user_id, f[1].reason),
        (t0 + ms(1500), None, AuthFailureReason::UnknownUser)
    );
    // The raw rows hold exactly that: codes 1 and 2, the 16-byte id or NULL.
    let conn = rusqlite::Connection::open(dir.path().join(polku_store::DB_FILE)).expect("raw");
    let rows: Vec<(i64, Option<Vec<u8>>, i64)> = conn
        .prepare("SELECT time_ms, user_id, reason FROM auth_failures ORDER BY id")
        .expect("prepare")
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    assert_eq!(
        rows,
        vec![
            (t0.timestamp_millis(), Some(me.as_bytes().to_vec()), 1),
            (t0.timestamp_millis() + 1500, None, 2),
        ]
    );
}

#[test]
fn the_sixth_attempt_is_throttled_without_argon2_until_the_wait_passes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let me = UserId::new();
    // Whether argon2id runs is counted (KdfTally), not timed.
    let kdf = KdfParams::INSECURE_FOR_TESTS;
    drop(
        Store::create(
            dir.path(),
            NewUser {
                user_id: me,
                login: LOGIN,
                password: PASSWORD,
                kdf,
            },
        )
        .expect("create"),
    );
    let locked = LockedStore::open(dir.path()).expect("open");
    let t0 = now_ms();
    let derivations = || KdfTally::this_thread().count;
    for _ in 0..5 {
        let n = derivations();
        assert!(is_wrong(locked.derive_key_at(LOGIN, "wrong", t0)));
        assert_eq!(derivations(), n + 1, "a failure that counts runs argon2id");
    }

    // Inside the 1 s window: refused, fast, for any login and password
    // (the answer does not reveal whether the login exists).
    for (login, password) in [(LOGIN, "wrong"), (LOGIN, PASSWORD), ("nobody", PASSWORD)] {
        let n = derivations();
        let r = locked.derive_key_at(login, password, t0 + ms(500));
        assert_eq!(throttled(r), Some(1));
        assert_eq!(derivations(), n, "a throttled attempt skips argon2id");
    }
    // Refused attempts do not restart or lengthen the wait.
    assert_eq!(
        throttled(locked.derive_key_at(LOGIN, "wrong", t0 + ms(999))),
        Some(1)
    );

    // After the window argon2 runs again: a sixth failure, now 2 s.
    let n = derivations();
    assert!(is_wrong(locked.derive_key_at(
        LOGIN,
        "wrong",
        t0 + ms(1000)
    )));
    assert_eq!(derivations(), n + 1, "argon2id ran again");
    assert_eq!(
        throttled(locked.derive_key_at(LOGIN, PASSWORD, t0 + ms(1500))),
        Some(2)
    );
    assert_eq!(
        throttled(locked.derive_key_at(LOGIN, PASSWORD, t0 + ms(2001))),
        Some(1)
    );
    let key = locked
        .derive_key_at(LOGIN, PASSWORD, t0 + ms(3000))
        .expect("the right password after the wait");
    let store = locked.unlock(key).expect("unlock");

    let f = store.auth_failures().expect("failures");
    use AuthFailureReason::{Throttled as T, WrongPassword as W};
    assert_eq!(reasons(&f), vec![W, W, W, W, W, T, T, T, T, W, T, T]);
    let users: Vec<_> = f.iter().map(|f| f.user_id).collect();
    assert_eq!(users[7], None, "a throttled unknown login has no user");
    assert!(
        users
            .iter()
            .enumerate()
            .all(|(i, u)| i == 7 || *u == Some(me))
    );
    assert_eq!(f[5].time, t0 + ms(500));
    assert_eq!(f[9].time, t0 + ms(1000));
}

#[test]
fn the_wait_doubles_and_is_capped_at_five_minutes() {
    let dir = tempfile::tempdir().expect("tempdir");
    drop(new_store(dir.path()).0);
    let t0 = now_ms();
    let mut t = t0;
    let mut waits = Vec::new();
    for i in 0..16 {
        assert!(
            is_wrong(attempt(dir.path(), LOGIN, "wrong", t)),
            "failure {i}"
        );
        // Probe with the right password: if not refused it records nothing.
        let wait = throttled(attempt(dir.path(), LOGIN, PASSWORD, t)).unwrap_or(0);
        waits.push(wait);
        t += TimeDelta::seconds(wait as i64);
    }
    assert_eq!(
        waits,
        vec![0, 0, 0, 0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300]
    );
    // A partial wait is rounded up, and never exceeds the cap.
    assert_eq!(
        throttled(attempt(dir.path(), LOGIN, PASSWORD, t - ms(299_001))),
        Some(300)
    );
    assert_eq!(
        throttled(attempt(dir.path(), LOGIN, PASSWORD, t - ms(1))),
        Some(1)
    );
    drop(unlock_at(dir.path(), t));
}

#[test]
fn a_clock_moved_back_never_locks_out_for_longer_than_the_wait() {
    let dir = tempfile::tempdir().expect("tempdir");
    drop(new_store(dir.path()).0);
    let t0 = now_ms();
    for _ in 0..5 {
        assert!(is_wrong(attempt(dir.path(), LOGIN, "wrong", t0)));
    }
    // The clock jumps back an hour: the last failure lies in the future.
    // The wait counts from now, not from that future time.
    let back = t0 - TimeDelta::hours(1);
    assert_eq!(
        throttled(attempt(dir.path(), LOGIN, PASSWORD, back)),
        Some(1)
    );
    assert_eq!(
        throttled(attempt(dir.path(), LOGIN, PASSWORD, back + ms(600))),
        Some(1)
    );
    assert_eq!(
        throttled(attempt(dir.path(), LOGIN, PASSWORD, back + ms(999))),
        Some(1)
    );
    // One wait after the first refused attempt, logins work again.
    assert!(is_wrong(attempt(
        dir.path(),
        LOGIN,
        "wrong",
        back + ms(1000)
    )));
    assert_eq!(
        throttled(attempt(dir.path(), LOGIN, PASSWORD, back + ms(1000))),
        Some(2)
    );
    let store = unlock_at(dir.path(), back + ms(3000));
    assert_eq!(store.auth_failures().expect("failures").len(), 10);

    // Twenty failures a year in the future (written under a wrong clock):
    // the maximal wait, counted from the next attempt, not from next year.
    let last = store
        .auth_failures()
        .expect("failures")
        .last()
        .expect("row")
        .id;
    store.delete_auth_failures(last).expect("delete");
    drop(store);
    let future = (t0 + TimeDelta::days(365)).timestamp_millis();
    let conn = rusqlite::Connection::open(dir.path().join(polku_store::DB_FILE)).expect("raw");
    for _ in 0..20 {
        conn.execute(
            "INSERT INTO auth_failures (time_ms, user_id, reason) VALUES (?1, NULL, 2)",
            [future],
        )
        .expect("insert");
    }
    assert_eq!(
        throttled(attempt(dir.path(), LOGIN, PASSWORD, t0)),
        Some(300)
    );
    assert_eq!(
        throttled(attempt(
            dir.path(),
            LOGIN,
            PASSWORD,
            t0 + TimeDelta::seconds(299)
        )),
        Some(1)
    );
    drop(unlock_at(dir.path(), t0 + TimeDelta::seconds(300)));
}

#[test]
fn deleting_failures_resets_the_backoff() {
    let dir = tempfile::tempdir().expect("tempdir");
    drop(new_store(dir.path()).0);
    let t0 = now_ms();
    for _ in 0..5 {
        assert!(is_wrong(attempt(dir.path(), LOGIN, "wrong", t0)));
    }
    assert!(throttled(attempt(dir.path(), LOGIN, PASSWORD, t0)).is_some());

    // A successful login; the session folds the failures into the audit
    // chain and deletes them, all but the ones recorded meanwhile.
    let store = unlock_at(dir.path(), t0 + ms(1000));
    let f = store.auth_failures().expect("failures");
    assert_eq!(f.len(), 6);
    assert_eq!(store.delete_auth_failures(f[2].id).expect("delete"), 3);
    assert_eq!(store.auth_failures().expect("failures"), f[3..]);
    let n = store
        .batch(|b| b.delete_auth_failures(f[5].id))
        .expect("batch delete");
    assert_eq!(n, 3);
    assert!(store.auth_failures().expect("failures").is_empty());
    drop(store);
    assert_eq!(count_rows(dir.path(), "auth_failures"), 0);

    // Five failures in a row are allowed again before the backoff starts.
    for _ in 0..5 {
        assert!(is_wrong(attempt(dir.path(), LOGIN, "wrong", t0 + ms(1000))));
    }
    assert!(throttled(attempt(dir.path(), LOGIN, "wrong", t0 + ms(1000))).is_some());
}

#[test]
fn throttling_messages_hold_no_login_name() {
    let dir = tempfile::tempdir().expect("tempdir");
    drop(new_store(dir.path()).0);
    let t0 = now_ms();
    for _ in 0..5 {
        let _ = attempt(dir.path(), "Ville Virtanen", "Salasana-Virtanen", t0);
    }
    let err =
        attempt(dir.path(), "Ville Virtanen", "Salasana-Virtanen", t0).expect_err("throttled");
    assert!(matches!(
        err,
        StoreError::TooManyAttempts {
            retry_after_secs: 1
        }
    ));
    let text = format!("{err} {err:?}");
    assert!(!text.to_lowercase().contains("virtanen"), "{text}");
    assert!(text.contains("1 s"), "{text}");
}
