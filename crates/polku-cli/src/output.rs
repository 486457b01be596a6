//! Printing results for people (tables, text) and for scripts (`--json`).
//!
//! Everything is written to a locked stdout with `writeln!`, so a closed pipe
//! (`polku client list | head`) is an I/O error the caller handles, not a panic.

use std::io::Write;

use anyhow::Result;
use polku_api::AuditRow;
use polku_core::codes::{CodeList, CodeSet, Lang};
use polku_core::model::MeasureStatus;
use polku_core::model::{Client, ClientSummary, Device, Organisation, User};

/// `client list`.
pub fn client_list(list: &[ClientSummary], json: bool) -> Result<()> {
    let mut out = std::io::stdout().lock();
    if json {
        writeln!(out, "{}", serde_json::to_string_pretty(list)?)?;
        return Ok(());
    }
    writeln!(
        out,
        "{:<36}  {:<24}  {:<10}",
        "ID", "NIMI / NAMN / NAME", "SYNT."
    )?;
    for c in list {
        let name = format!("{}, {}", c.last_name, c.first_name);
        let born = c
            .birth_date
            .map(|d| d.format("%-d.%-m.%Y").to_string())
            .unwrap_or_default();
        writeln!(out, "{:<36}  {:<24}  {:<10}", c.id, name, born)?;
    }
    writeln!(out, "{} asiakasta / klienter / clients", list.len())?;
    Ok(())
}

fn label(codes: &CodeSet, list: CodeList, code: Option<&str>) -> String {
    match code {
        None => "–".to_owned(),
        Some(c) => codes
            .label(list, c, Lang::Fi)
            .map(str::to_owned)
            .unwrap_or_else(|_| format!("? ({c})")),
    }
}

/// `client show`.
pub fn client(c: &Client, codes: &CodeSet, org: &Organisation, json: bool) -> Result<()> {
    let mut out = std::io::stdout().lock();
    if json {
        writeln!(out, "{}", serde_json::to_string_pretty(c)?)?;
        return Ok(());
    }
    let b = &c.basic;
    writeln!(out, "{} {}  ({})", b.first_name, b.last_name, c.id)?;
    if let Some(d) = b.birth_date {
        writeln!(out, "  Syntymäaika:  {}", d.format("%-d.%-m.%Y"))?;
    }
    if let Some(unit) = c.unit {
        let (name, retired) = org
            .units
            .get(&unit)
            .map_or(("?", false), |u| (u.name.as_str(), !u.active));
        let mark = if retired {
            " (lakkautettu / retired)"
        } else {
            ""
        };
        writeln!(out, "  Yksikkö:      {name}{mark}")?;
    }
    writeln!(
        out,
        "  Sukupuoli:    {}",
        label(codes, CodeList::Gender, b.gender.as_deref())
    )?;
    writeln!(
        out,
        "  Äidinkieli:   {}",
        label(codes, CodeList::MotherTongue, b.mother_tongue.as_deref())
    )?;
    let day = |d: Option<chrono::NaiveDate>| {
        d.map(|d| d.format("%-d.%-m.%Y").to_string())
            .unwrap_or_default()
    };
    for p in c.periods.values() {
        writeln!(
            out,
            "  Jakso {} – {}: {}  ({})",
            day(p.start),
            day(p.end),
            label(codes, CodeList::ArrivalRoute, p.arrival_route.as_deref()),
            p.id
        )?;
        for m in p.measures.values() {
            writeln!(
                out,
                "    Toimenpide: {} ({})  ({})",
                label(codes, CodeList::Measure, Some(&m.code)),
                status_fi(m.status),
                m.id
            )?;
        }
        if p.outcome.is_some() {
            writeln!(
                out,
                "    Sijoittuminen: {}",
                label(codes, CodeList::Outcome, p.outcome.as_deref())
            )?;
        }
    }
    for s in c.snapshots.values() {
        writeln!(
            out,
            "  Tilanne {}: {}  ({})",
            day(Some(s.date)),
            label(codes, CodeList::MainActivity, s.main_activity.as_deref()),
            s.id
        )?;
    }
    for r in c.referrals.values() {
        writeln!(
            out,
            "  Ilmoitus {}: {}  ({})",
            day(Some(r.received)),
            label(codes, CodeList::ReferralSource, Some(&r.source)),
            r.id
        )?;
    }
    for k in c.consents.values() {
        let withdrawn = k
            .withdrawn
            .map(|w| format!(", peruttu {}", day(Some(w))))
            .unwrap_or_default();
        writeln!(
            out,
            "  Suostumus ({}) {}{withdrawn}  ({})",
            k.topic,
            day(Some(k.given)),
            k.id
        )?;
    }
    let mut memos: Vec<_> = c.memos.values().filter(|m| m.deleted.is_none()).collect();
    memos.sort_by_key(|m| (m.date, m.id));
    writeln!(out, "  Muistiot ({}):", memos.len())?;
    for m in memos {
        writeln!(
            out,
            "    {} [{}] {}  ({})",
            m.date.format("%-d.%-m.%Y"),
            label(codes, CodeList::MemoType, Some(&m.kind)),
            m.text,
            m.id
        )?;
    }
    Ok(())
}

fn status_fi(status: MeasureStatus) -> &'static str {
    match status {
        MeasureStatus::Planned => "suunniteltu",
        MeasureStatus::Ongoing => "käynnissä",
        MeasureStatus::Completed => "toteutunut",
        MeasureStatus::Discontinued => "keskeytynyt",
    }
}

/// `user list`.
pub fn users(users: &[User], org: &Organisation, json: bool) -> Result<()> {
    let mut out = std::io::stdout().lock();
    if json {
        writeln!(out, "{}", serde_json::to_string_pretty(users)?)?;
        return Ok(());
    }
    writeln!(
        out,
        "{:<16}  {:<12}  {:<8}  {:<28}  RIGHTS",
        "LOGIN", "ROLE", "ACTIVE", "YKSIKÖT / ENHETER / UNITS"
    )?;
    for u in users {
        let units: Vec<&str> = u
            .units
            .iter()
            .filter_map(|id| org.units.get(id).map(|x| x.name.as_str()))
            .collect();
        let rights = crate::admin::rights_summary(&polku_core::rights::Rights::for_user(u));
        let adjusted = if u.rights.is_some() {
            " (adjusted)"
        } else {
            ""
        };
        writeln!(
            out,
            "{:<16}  {:<12}  {:<8}  {:<28}  {rights}{adjusted}",
            u.login,
            u.role.as_str(),
            if u.active { "yes" } else { "no" },
            units.join(", ")
        )?;
    }
    Ok(())
}

/// `audit list`.
pub fn audit_rows(rows: &[AuditRow], json: bool) -> Result<()> {
    let mut out = std::io::stdout().lock();
    if json {
        writeln!(out, "{}", serde_json::to_string_pretty(rows)?)?;
        return Ok(());
    }
    for r in rows {
        writeln!(
            out,
            "{}  {}#{:<5}  {:<14}  {:<12}  {:<36}  {}",
            r.time.format("%Y-%m-%d %H:%M:%S"),
            &r.node[..8.min(r.node.len())],
            r.seq,
            r.user.as_deref().unwrap_or("-"),
            r.action,
            r.target.map(|t| t.to_string()).unwrap_or_default(),
            r.detail
        )?;
    }
    writeln!(out, "{} entries", rows.len())?;
    Ok(())
}

/// `device list`.
pub fn devices(devices: &[Device], org: &Organisation, json: bool) -> Result<()> {
    let mut out = std::io::stdout().lock();
    if json {
        writeln!(out, "{}", serde_json::to_string_pretty(devices)?)?;
        return Ok(());
    }
    for d in devices {
        let user = org.users.get(&d.user).map_or("?", |u| u.login.as_str());
        let state = match d.revoked_at {
            Some(t) => format!("revoked {}", t.format("%Y-%m-%d")),
            None => "active".to_owned(),
        };
        writeln!(
            out,
            "{}  {:<16}  {:<20}  enrolled {}  {state}",
            &d.node_id[..16.min(d.node_id.len())],
            user,
            d.label,
            d.enrolled_at.format("%Y-%m-%d")
        )?;
    }
    writeln!(out, "{} devices", devices.len())?;
    Ok(())
}
