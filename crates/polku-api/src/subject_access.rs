//! Subject access (tarkastusoikeus, GDPR art. 15): everything held on one
//! person, as JSON and as a printable HTML page in Finnish or Swedish.
//!
//! The export holds the whole client (basic data, background, situations,
//! periods and measures, memos, referrals, consents, disclosures, follow-ups,
//! the list of attachments), the history of every field's values taken from
//! the documents' own change history (so a rectification shows: the old value,
//! the new one, when and by whom), and every audit entry about the client
//! (who viewed or changed what, when, by login name).
//!
//! Rights: the audit right ([`Action::ViewAudit`]) and the right to view the
//! whole record with its memos: a partial export would mislead, so it is
//! refused instead. The export is itself audited (`export` with
//! `subject_access`, target: the client id). Everything a person typed is
//! escaped in the HTML.

use std::collections::BTreeMap;

use automerge::AutoCommit;
use chrono::{DateTime, TimeZone, Utc};
use polku_audit::{Action as AuditAction, Detail, Filter};
use polku_core::doc::ClientDoc;
use polku_core::model::{Client, record_doc_id};
use polku_core::rights::{Action, Target};
use polku_core::{ClientId, DocId};
use polku_store::StoreError;
use serde::Serialize;
use serde_json::Value;

use crate::audit_codes::SUBJECT_ACCESS;
use crate::audit_ops::AuditRow;
use crate::session::{Part, Session};
use crate::trail::parse_change_message;
use crate::{ApiError, Result};

/// The language of the printable page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportLang {
    /// Finnish.
    Fi,
    /// Swedish.
    Sv,
}

/// One value a field had, from the moment a change set it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldChange {
    /// When the change was made (the device's clock).
    pub at: DateTime<Utc>,
    /// The login name of who made it, when known.
    pub by: Option<String>,
    /// The field, as a path (e.g. `basic.phone`, `memos.<id>.text`).
    pub field: String,
    /// The value it got (`null`: removed).
    pub value: Value,
}

/// Everything held on one person (see the module docs).
#[derive(Debug, Clone, Serialize)]
pub struct SubjectAccessData {
    /// When the export was made.
    pub generated_at: DateTime<Utc>,
    /// The register keeper (the organisation's name).
    pub organisation: String,
    /// The client, whole.
    pub client: Client,
    /// Every value every field has had, oldest first.
    pub field_history: Vec<FieldChange>,
    /// Every audit entry about the client, oldest first.
    pub audit: Vec<AuditRow>,
}

/// The export in its two forms.
#[derive(Debug, Clone)]
pub struct SubjectAccess {
    /// The data.
    pub data: SubjectAccessData,
    /// The data as pretty JSON.
    pub json: String,
    /// The printable page.
    pub html: String,
}

impl Session {
    /// Everything held on client `id` (see the module docs); audited.
    pub fn subject_access(
        &mut self,
        id: ClientId,
        lang: ExportLang,
        now: DateTime<Utc>,
    ) -> Result<SubjectAccess> {
        self.check(Action::ViewAudit, Target::Organisation, Some(id.0), now)?;
        let view = self.client_view(id, now)?;
        if view.record != Part::Shown || view.memos != Part::Shown {
            return Err(ApiError::Denied(polku_core::rights::Denied {
                missing: polku_core::rights::MissingRight::View,
            }));
        }
        // Audited before anything is read out (an attempt counts too), so
        // the export lists its own entry; the log is decoded once.
        self.record(
            now,
            AuditAction::Export,
            Some(id.0),
            Detail::Code(SUBJECT_ACCESS),
        )?;
        let rows = self.audit_rows(&Filter::new())?;
        // Who wrote each change: the audit entry its commit message names.
        let authors: BTreeMap<(String, u64), Option<String>> = rows
            .iter()
            .map(|r| ((r.node.clone(), r.seq), r.user.clone()))
            .collect();
        let field_history = self.field_history(id, &authors)?;
        let audit: Vec<AuditRow> = rows
            .into_iter()
            .filter(|r| r.target == Some(id.0))
            .collect();
        let data = SubjectAccessData {
            generated_at: now,
            organisation: self.org.name.clone(),
            client: view.client,
            field_history,
            audit,
        };
        let json = serde_json::to_string_pretty(&data)
            .map_err(|_| ApiError::Invalid("the export could not be written"))?;
        let html = render_html(&data, lang);
        Ok(SubjectAccess { data, json, html })
    }

    /// Every value of every field of client `id`, replayed change by change
    /// from its two documents. Not audited: the caller audits.
    fn field_history(
        &self,
        id: ClientId,
        authors: &BTreeMap<(String, u64), Option<String>>,
    ) -> Result<Vec<FieldChange>> {
        let load = |doc: DocId| match self.store.load_doc(doc) {
            Ok(d) => Ok(Some(d)),
            Err(StoreError::DocNotFound(_)) => Ok(None),
            Err(e) => Err(ApiError::from(e)),
        };
        let Some(mut basic) = load(id.into())? else {
            return Err(ApiError::ClientNotFound(id));
        };
        let mut record = load(record_doc_id(id))?;
        let mut out = Vec::new();
        // Basic data replayed with the final record beside it, then the
        // record replayed with the final basic data.
        let final_record = record.clone();
        let final_basic = basic.clone();
        for part in [0, 1] {
            let source: &mut AutoCommit = if part == 0 {
                &mut basic
            } else {
                match record.as_mut() {
                    Some(r) => r,
                    None => break,
                }
            };
            let changes: Vec<automerge::Change> = source.get_changes(&[]);
            let mut step = AutoCommit::new();
            let mut before: BTreeMap<String, Value> = BTreeMap::new();
            for change in changes {
                let at = change.timestamp();
                let by = change
                    .message()
                    .and_then(parse_change_message)
                    .and_then(|(node, seq)| authors.get(&(node.to_string(), seq)).cloned())
                    .flatten();
                if step.apply_changes([change]).is_err() {
                    continue;
                }
                let doc = if part == 0 {
                    ClientDoc::from_parts(step.clone(), final_record.clone())
                } else {
                    ClientDoc::from_parts(final_basic.clone(), Some(step.clone()))
                };
                let Some(client) = doc.ok().and_then(|d| d.client().ok()) else {
                    continue;
                };
                let mut now_fields = BTreeMap::new();
                let prefix = if part == 0 { "basic_part" } else { "record" };
                let value = serde_json::to_value(&client).unwrap_or(Value::Null);
                flatten("", &value, &mut now_fields);
                // Only the fields this part holds.
                let own = |k: &str| is_basic_field(k) == (prefix == "basic_part");
                let at = Utc.timestamp_millis_opt(at).single().unwrap_or_default();
                for (k, v) in now_fields.iter().filter(|(k, _)| own(k)) {
                    if (before.contains_key(k) || !v.is_null()) && before.get(k) != Some(v) {
                        out.push(FieldChange {
                            at,
                            by: by.clone(),
                            field: k.clone(),
                            value: v.clone(),
                        });
                    }
                }
                for k in before.keys().filter(|k| own(k)) {
                    if !now_fields.contains_key(k) {
                        out.push(FieldChange {
                            at,
                            by: by.clone(),
                            field: k.clone(),
                            value: Value::Null,
                        });
                    }
                }
                before = now_fields;
            }
        }
        out.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.field.cmp(&b.field)));
        // A deterministic first change (a record's genesis) is at time 0:
        // it sets nothing a person entered.
        out.retain(|c| c.at.timestamp_millis() > 0 || !c.value.is_null());
        Ok(out)
    }
}

/// Whether a flattened field path belongs to the basic-data document.
fn is_basic_field(path: &str) -> bool {
    let top = path.split('.').next().unwrap_or("");
    matches!(top, "id" | "created_at" | "basic" | "unit" | "responsible")
}

/// Leaves of a JSON value by dotted path (arrays by index).
fn flatten(prefix: &str, v: &Value, out: &mut BTreeMap<String, Value>) {
    let join = |k: &str| {
        if prefix.is_empty() {
            k.to_owned()
        } else {
            format!("{prefix}.{k}")
        }
    };
    match v {
        Value::Object(m) if !m.is_empty() => {
            for (k, v) in m {
                flatten(&join(k), v, out);
            }
        }
        Value::Array(a) if !a.is_empty() => {
            for (i, v) in a.iter().enumerate() {
                flatten(&join(&i.to_string()), v, out);
            }
        }
        Value::Object(_) | Value::Array(_) => {}
        Value::String(s) if s.is_empty() => {}
        other => {
            out.insert(prefix.to_owned(), other.clone());
        }
    }
}

/// HTML-escaped text.
fn esc(s: &str) -> String {
    html_escape::encode_safe(s).into_owned()
}

/// Words of the page, per language.
fn words(lang: ExportLang) -> BTreeMap<&'static str, &'static str> {
    let fi = [
        ("title", "Rekisteröidyn tiedot (tarkastusoikeus)"),
        (
            "intro",
            "Kaikki tiedot, jotka rekisteriin on tallennettu tästä henkilöstä, niiden muutoshistoria ja käyttöloki.",
        ),
        ("keeper", "Rekisterinpitäjä"),
        ("generated", "Tulostettu"),
        ("client", "Tiedot"),
        ("history", "Kenttien muutoshistoria"),
        ("audit", "Käyttöloki: kuka katsoi tai muutti tietoja"),
        ("field", "Tieto"),
        ("value", "Arvo"),
        ("when", "Aika"),
        ("who", "Käyttäjä"),
        ("action", "Toimenpide"),
        ("detail", "Tarkenne"),
        ("none", "ei tietoa"),
        ("removed", "poistettu"),
        ("basic", "Perustiedot"),
        ("background", "Taustatiedot"),
        ("snapshots", "Tilannetiedot"),
        ("periods", "Jaksot ja toimenpiteet"),
        ("memos", "Muistiot"),
        ("referrals", "Ilmoitukset"),
        ("consents", "Suostumukset"),
        ("disclosures", "Luovutukset"),
        ("follow_ups", "Seurannat"),
        ("attachments", "Liitteet"),
        ("first_name", "Etunimi"),
        ("last_name", "Sukunimi"),
        ("birth_date", "Syntymäaika"),
        ("gender", "Sukupuoli"),
        ("mother_tongue", "Äidinkieli"),
        ("henkilotunnus", "Henkilötunnus"),
        ("email", "Sähköposti"),
        ("phone", "Puhelin"),
        ("address", "Osoite"),
        ("unit", "Yksikkö"),
        ("responsible", "Vastuutyöntekijät"),
        ("created_at", "Luotu"),
        ("text", "Teksti"),
        ("date", "Päivämäärä"),
        ("start", "Alkoi"),
        ("end", "Päättyi"),
        ("measures", "Toimenpiteet"),
        ("outcome", "Sijoittuminen"),
        ("arrival_route", "Mitä kautta saapunut"),
        ("goals", "Tavoitteet"),
        ("final_assessment", "Loppuarvio"),
    ];
    let sv = [
        ("title", "Den registrerades uppgifter (rätt till insyn)"),
        (
            "intro",
            "Alla uppgifter som registret har sparat om denna person, deras ändringshistorik och användningsloggen.",
        ),
        ("keeper", "Personuppgiftsansvarig"),
        ("generated", "Utskriven"),
        ("client", "Uppgifter"),
        ("history", "Fältens ändringshistorik"),
        (
            "audit",
            "Användningslogg: vem läste eller ändrade uppgifterna",
        ),
        ("field", "Uppgift"),
        ("value", "Värde"),
        ("when", "Tid"),
        ("who", "Användare"),
        ("action", "Åtgärd"),
        ("detail", "Precisering"),
        ("none", "uppgift saknas"),
        ("removed", "borttagen"),
        ("basic", "Grunduppgifter"),
        ("background", "Bakgrundsuppgifter"),
        ("snapshots", "Situationsuppgifter"),
        ("periods", "Perioder och åtgärder"),
        ("memos", "Anteckningar"),
        ("referrals", "Anmälningar"),
        ("consents", "Samtycken"),
        ("disclosures", "Utlämnanden"),
        ("follow_ups", "Uppföljningar"),
        ("attachments", "Bilagor"),
        ("first_name", "Förnamn"),
        ("last_name", "Efternamn"),
        ("birth_date", "Födelsedatum"),
        ("gender", "Kön"),
        ("mother_tongue", "Modersmål"),
        ("henkilotunnus", "Personbeteckning"),
        ("email", "E-post"),
        ("phone", "Telefon"),
        ("address", "Adress"),
        ("unit", "Enhet"),
        ("responsible", "Ansvariga arbetstagare"),
        ("created_at", "Skapad"),
        ("text", "Text"),
        ("date", "Datum"),
        ("start", "Började"),
        ("end", "Slutade"),
        ("measures", "Åtgärder"),
        ("outcome", "Placering"),
        ("arrival_route", "Hur klienten kom"),
        ("goals", "Mål"),
        ("final_assessment", "Slutbedömning"),
    ];
    match lang {
        ExportLang::Fi => fi.into_iter().collect(),
        ExportLang::Sv => sv.into_iter().collect(),
    }
}

/// A field path in the page's words (each known segment translated).
fn label(path: &str, w: &BTreeMap<&str, &str>) -> String {
    path.split('.')
        .map(|seg| w.get(seg).copied().unwrap_or(seg))
        .collect::<Vec<_>>()
        .join(" › ")
}

fn value_text(v: &Value, w: &BTreeMap<&str, &str>) -> String {
    match v {
        Value::Null => w["removed"].to_owned(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The printable page: every value escaped.
fn render_html(d: &SubjectAccessData, lang: ExportLang) -> String {
    let w = words(lang);
    let lang_attr = match lang {
        ExportLang::Fi => "fi",
        ExportLang::Sv => "sv",
    };
    let mut h = String::new();
    h.push_str(&format!(
        "<!DOCTYPE html>\n<html lang=\"{lang_attr}\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n\
         <style>body{{font-family:sans-serif;max-width:60rem;margin:2rem auto;color:#222}}\
         table{{border-collapse:collapse;width:100%;margin:0 0 1.5rem}}\
         th,td{{border:1px solid #999;padding:.3rem .5rem;text-align:left;vertical-align:top}}\
         th{{background:#eee}}td.v{{white-space:pre-wrap}}@media print{{body{{margin:0}}}}</style>\n</head>\n<body>\n",
        esc(w["title"])
    ));
    h.push_str(&format!(
        "<h1>{}</h1>\n<p>{}</p>\n",
        esc(w["title"]),
        esc(w["intro"])
    ));
    h.push_str(&format!(
        "<p>{}: {}<br>{}: {}</p>\n",
        esc(w["keeper"]),
        esc(&d.organisation),
        esc(w["generated"]),
        esc(&d.generated_at.format("%-d.%-m.%Y %H.%M UTC").to_string())
    ));
    // The client, section by section.
    let client = serde_json::to_value(&d.client).unwrap_or(Value::Null);
    h.push_str(&format!("<h2>{}</h2>\n", esc(w["client"])));
    let sections = [
        "basic",
        "background",
        "snapshots",
        "periods",
        "memos",
        "referrals",
        "consents",
        "disclosures",
        "follow_ups",
        "attachments",
    ];
    for s in sections {
        let mut fields = BTreeMap::new();
        if s == "basic" {
            for k in ["id", "created_at", "basic", "unit", "responsible"] {
                if let Some(v) = client.get(k) {
                    flatten(k, v, &mut fields);
                }
            }
        } else if let Some(v) = client.get(s) {
            flatten("", v, &mut fields);
        }
        h.push_str(&format!(
            "<h3>{}</h3>\n",
            esc(w.get(s).copied().unwrap_or(s))
        ));
        if fields.is_empty() {
            h.push_str(&format!("<p>{}</p>\n", esc(w["none"])));
            continue;
        }
        let rows = fields
            .iter()
            .map(|(k, v)| vec![label(k, &w), value_text(v, &w)]);
        h.push_str(&table(&[w["field"], w["value"]], rows, 1));
    }
    let when = |t: &DateTime<Utc>| t.format("%-d.%-m.%Y %H.%M").to_string();
    let who = |u: &Option<String>| u.clone().unwrap_or_else(|| "–".to_owned());
    h.push_str(&format!("<h2>{}</h2>\n", esc(w["history"])));
    let rows = d.field_history.iter().map(|c| {
        vec![
            when(&c.at),
            who(&c.by),
            label(&c.field, &w),
            value_text(&c.value, &w),
        ]
    });
    h.push_str(&table(
        &[w["when"], w["who"], w["field"], w["value"]],
        rows,
        3,
    ));
    h.push_str(&format!("<h2>{}</h2>\n", esc(w["audit"])));
    let rows = d.audit.iter().map(|r| {
        vec![
            when(&r.time),
            who(&r.user),
            r.action.clone(),
            r.detail.clone(),
        ]
    });
    h.push_str(&table(
        &[w["when"], w["who"], w["action"], w["detail"]],
        rows,
        usize::MAX,
    ));
    h.push_str("</tbody></table>\n</body>\n</html>\n");
    h
}

/// A table with a header row; every cell escaped; the cells of column
/// `typed` (text a person typed) keep their line breaks.
fn table(heads: &[&str], rows: impl Iterator<Item = Vec<String>>, typed: usize) -> String {
    let mut t = String::from("<table><thead><tr>");
    for head in heads {
        t.push_str(&format!("<th scope=\"col\">{}</th>", esc(head)));
    }
    t.push_str("</tr></thead><tbody>\n");
    for row in rows {
        t.push_str("<tr>");
        for (i, cell) in row.iter().enumerate() {
            let class = if i == typed { " class=\"v\"" } else { "" };
            t.push_str(&format!("<td{class}>{}</td>", esc(cell)));
        }
        t.push_str("</tr>\n");
    }
    t.push_str("</tbody></table>\n");
    t
}
