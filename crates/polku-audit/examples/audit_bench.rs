//! Measures the in-memory audit log: append (sign + hash + index), encode,
//! decode, verify a chain, and merge (verify + index) into a hub's log.
//!
//! ```text
//! cargo run --release -p polku-audit --example audit_bench [-- ENTRIES]
//! ```

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use polku_audit::{Action, AuditLog, Detail, Entry, NodeKey, Reason, verify_chain, verify_log};
use polku_core::UserId;
use uuid::Uuid;

fn rate(n: usize, took: Duration) -> String {
    let per_sec = n as f64 / took.as_secs_f64();
    format!(
        "{n} in {:>8.1} ms = {:>10.0} entries/s",
        took.as_secs_f64() * 1e3,
        per_sec
    )
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: usize = match std::env::args().nth(1) {
        Some(arg) => arg.parse()?,
        None => 100_000,
    };
    let key = NodeKey::from_bytes(&rand::random::<[u8; 32]>());
    let users: Vec<UserId> = (0..20).map(|_| UserId::new()).collect();
    let clients: Vec<Uuid> = (0..2_000).map(|_| Uuid::now_v7()).collect();
    let start_time: DateTime<Utc> = DateTime::from_timestamp(1_770_000_000, 0).unwrap_or_default();

    let mut log = AuditLog::new();
    let t = Instant::now();
    for i in 0..n {
        let (action, detail) = match i % 5 {
            0 => (Action::Update, Detail::Count(3)),
            1 => (Action::Denied, Detail::Reason(Reason::NotPermitted)),
            _ => (Action::View, Detail::None),
        };
        let time = start_time + chrono::Duration::milliseconds(i as i64);
        log.append(
            &key,
            time,
            Some(users[i % users.len()]),
            action,
            Some(clients[i % clients.len()]),
            detail,
        );
    }
    println!("append        {}", rate(n, t.elapsed()));

    let entries: Vec<Entry> = log.iter().cloned().collect();
    let t = Instant::now();
    let encoded: Vec<Vec<u8>> = entries.iter().map(Entry::encode).collect();
    println!("encode        {}", rate(n, t.elapsed()));
    let bytes: usize = encoded.iter().map(Vec::len).sum();
    println!("              {:.1} bytes/entry", bytes as f64 / n as f64);

    let t = Instant::now();
    let decoded = encoded
        .iter()
        .map(|b| Entry::decode(b))
        .collect::<Result<Vec<_>, _>>()?;
    println!("decode        {}", rate(n, t.elapsed()));
    assert_eq!(decoded, entries);

    let t = Instant::now();
    verify_chain(&decoded)?;
    println!("verify_chain  {}", rate(n, t.elapsed()));

    let t = Instant::now();
    verify_log(&decoded)?;
    println!("verify_log    {}", rate(n, t.elapsed()));

    let mut hub = AuditLog::new();
    let t = Instant::now();
    let report = hub.merge(decoded);
    println!("merge         {}", rate(n, t.elapsed()));
    assert!(report.is_clean() && report.added == n);

    let t = Instant::now();
    let viewed = hub.by_target(clients[0]).len();
    println!(
        "query target  {viewed} entries in {:.3} ms",
        t.elapsed().as_secs_f64() * 1e3
    );
    let t = Instant::now();
    let denied = hub.by_action(Action::Denied).len();
    println!(
        "query action  {denied} entries in {:.3} ms (full scan)",
        t.elapsed().as_secs_f64() * 1e3
    );
    Ok(())
}
