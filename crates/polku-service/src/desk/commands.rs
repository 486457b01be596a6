//! The commands, one method each (the table of docs/app-commands.md).

use std::collections::BTreeMap;
use std::io::Read;

use base64::Engine;
use chrono::{DateTime, Utc};
use polku_api::{
    ActivityEdit, ActivityFilter, ActivityInput, ClientListQuery, ClientRow, ContactInput,
    HistoryRow, Part, Session, Workspace,
};
use polku_core::ClientId;
use polku_core::codes::CodeList;
use polku_core::model::{ActivityMemo, Organisation};

use super::{
    ClientViewDto, Desk, DeskError, DeskResult, Gate, Me, SessionState, State, UnitRef, dto::*,
    guard, may_of,
};

/// The largest attachment moved through the app in one piece.
pub const MAX_ATTACHMENT_BYTES: u64 = polku_core::limits::MAX_ATTACHMENT_BYTES;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

pub(super) fn me(s: &Session, _now: DateTime<Utc>) -> Result<Me, DeskError> {
    let org = s.organisation();
    let user = s.user();
    let lease = match (s.hub_pin()?, s.last_hub_contact()?) {
        (Some(_), Some(last)) => {
            Some(last + chrono::Duration::days(i64::from(org.settings.offline_lease_days)))
        }
        _ => None,
    };
    Ok(Me {
        login: user.login.clone(),
        role: user.role,
        units: user
            .units
            .iter()
            .map(|u| UnitRef {
                id: *u,
                name: org.units.get(u).map(|x| x.name.clone()).unwrap_or_default(),
            })
            .collect(),
        must_change_password: s.must_change_password(),
        idle_lock_minutes: super::idle_minutes_of(s),
        offline_lease_expires: lease,
        may: may_of(s),
    })
}

fn unit_name(org: &Organisation, unit: polku_core::UnitId) -> Option<String> {
    org.units.get(&unit).map(|u| u.name.clone())
}

fn logins(org: &Organisation, users: impl IntoIterator<Item = polku_core::UserId>) -> Vec<String> {
    users
        .into_iter()
        .filter_map(|u| org.users.get(&u).map(|u| u.login.clone()))
        .collect()
}

fn met_list(m: &ActivityMemo) -> Vec<MetDto> {
    m.met
        .0
        .iter()
        .flat_map(|(gender, ages)| {
            ages.iter().map(move |(age, count)| MetDto {
                gender: gender.clone(),
                age_group: age.clone(),
                count: *count,
            })
        })
        .collect()
}

fn activity_dto(s: &Session, m: ActivityMemo) -> ActivityDto {
    let org = s.organisation();
    ActivityDto {
        id: m.id,
        unit: unit_name(org, m.unit),
        met: met_list(&m),
        workers: logins(org, m.workers.iter().copied()),
        kind: m.kind,
        date: m.date,
        duration_minutes: m.duration_minutes,
        place: m.place,
        text: m.text,
    }
}

fn met_tuples(met: Vec<MetDto>) -> Vec<(String, String, u32)> {
    met.into_iter()
        .map(|m| (m.gender, m.age_group, m.count))
        .collect()
}

/// The client as the card shows it: the view, what it lacks, its conflicts.
fn view(s: &mut Session, id: ClientId, now: DateTime<Utc>) -> Result<ClientViewDto, DeskError> {
    let view = s.client_view(id, now)?;
    let missing = if view.record == Part::Shown {
        s.missing_items(id, now)?
    } else {
        Vec::new()
    };
    let conflicts = s.conflict_rows(id, now)?;
    let org = s.organisation();
    let people = view
        .client
        .responsible
        .iter()
        .chain(view.client.memos.values().map(|m| &m.author))
        .filter_map(|u| org.users.get(u).map(|x| (*u, x.login.clone())))
        .collect();
    Ok(ClientViewDto {
        view,
        missing,
        conflicts,
        people,
    })
}

fn attachment_rows(
    s: &mut Session,
    id: ClientId,
    now: DateTime<Utc>,
) -> Result<Vec<AttachmentRow>, DeskError> {
    Ok(s.list_attachments(id, now)?
        .into_iter()
        .map(|a| AttachmentRow {
            id: a.id,
            name: a.file_name,
            size: a.size,
            added_at: a.added_at,
            added_by: None,
        })
        .collect())
}

fn dto<T>(r: Result<T, DeskError>) -> DeskResult<T> {
    r.map_err(|e| e.to_dto())
}

impl Desk {
    // ---- session --------------------------------------------------------

    /// `app_info` (not activity).
    pub fn app_info(&self) -> AppInfo {
        AppInfo {
            version: self.inner.config.version.clone(),
            store: guard(&self.inner.store_role).unwrap_or("laptop"),
            organisation: guard(&self.inner.organisation).clone(),
            demo_users: self.inner.config.demo_users.clone(),
        }
    }

    /// `session_state` (not activity; locks first if the idle time is up).
    /// An open session carries its user ([`Me`]).
    pub async fn session_state(&self) -> SessionState {
        self.expire_idle().await;
        let cap = |m| self.idle_minutes_shown(m);
        let default = polku_core::model::SettingKey::IdleLockMinutes.default_value();
        let (mut state, replica) = match &*guard(&self.inner.state) {
            State::None => (
                SessionState {
                    state: "none",
                    login: None,
                    must_change_password: false,
                    idle_lock_minutes: cap(default),
                    me: None,
                },
                None,
            ),
            State::Open(o) => (
                SessionState {
                    state: "open",
                    login: Some(o.login.clone()),
                    must_change_password: o.must_change,
                    idle_lock_minutes: cap(o.idle_minutes),
                    me: None,
                },
                Some(o.replica.clone()),
            ),
            State::Locking { login } => (
                SessionState {
                    state: "locked",
                    login: Some(login.clone()),
                    must_change_password: false,
                    idle_lock_minutes: cap(default),
                    me: None,
                },
                None,
            ),
            State::Locked(l) => (
                SessionState {
                    state: "locked",
                    login: Some(l.login().to_owned()),
                    must_change_password: false,
                    idle_lock_minutes: cap(default),
                    me: None,
                },
                None,
            ),
        };
        if let Some(replica) = replica {
            let now = self.now();
            let me = tokio::task::spawn_blocking(move || me(guard(&replica).session(), now).ok())
                .await
                .ok()
                .flatten();
            state.me = me.map(|mut m| {
                m.idle_lock_minutes = self.idle_minutes_shown(m.idle_lock_minutes);
                m
            });
        }
        state
    }

    /// `login`: closes any session first; a temporary password opens only
    /// the password change.
    pub async fn login(&self, args: LoginArgs) -> DeskResult<Me> {
        self.close_any().await;
        let dir = self.inner.config.dir.clone();
        let now = self.now();
        let session = tokio::task::spawn_blocking(move || {
            Workspace::open(&dir)?.login(args.login.trim(), &args.password, now)
        })
        .await
        .map_err(|_| DeskError::Internal.to_dto())?
        .map_err(|e| e.to_dto())?;
        let desk = self.clone();
        tokio::task::spawn_blocking(move || desk.install(session, now))
            .await
            .map_err(|_| DeskError::Internal.to_dto())?
            .map_err(|e| e.to_dto())
    }

    /// Closes an open session (logout) or forgets a locked one.
    async fn close_any(&self) {
        if let Some((session, _)) = self.take_session(|_| State::None).await {
            let now = self.now();
            let _ = tokio::task::spawn_blocking(move || session.close_at(now)).await;
        }
        *guard(&self.inner.state) = State::None;
    }

    /// `change_password`: the current password is checked again.
    pub async fn change_password(&self, args: ChangePasswordArgs) -> DeskResult<Me> {
        dto(self
            .run(Gate::PasswordChange, move |s, now| {
                s.change_own_password(&args.current, &args.new, now)?;
                me(s, now)
            })
            .await)
    }

    /// `lock` (also on system suspend).
    pub async fn lock(&self) -> DeskResult<()> {
        self.lock_session().await;
        Ok(())
    }

    /// `unlock`: a login of the locked session's user.
    pub async fn unlock(&self, args: UnlockArgs) -> DeskResult<Me> {
        let locked = loop {
            let waiting = match &*guard(&self.inner.state) {
                State::Locked(l) => Some(l.clone()),
                State::Locking { .. } => None,
                State::Open(_) => return Err(DeskError::BadArgument("not locked").to_dto()),
                State::None => return Err(DeskError::NoSession.to_dto()),
            };
            match waiting {
                Some(l) => break l,
                None => tokio::time::sleep(std::time::Duration::from_millis(20)).await,
            }
        };
        let now = self.now();
        let session = tokio::task::spawn_blocking(move || locked.unlock(&args.password, now))
            .await
            .map_err(|_| DeskError::Internal.to_dto())?
            .map_err(|e| e.to_dto())?;
        let desk = self.clone();
        tokio::task::spawn_blocking(move || desk.install(session, now))
            .await
            .map_err(|_| DeskError::Internal.to_dto())?
            .map_err(|e| e.to_dto())
    }

    /// `logout`.
    pub async fn logout(&self) -> DeskResult<()> {
        self.close_any().await;
        Ok(())
    }

    /// `touch`: activity without a command.
    pub async fn touch(&self) -> DeskResult<()> {
        dto(self.run(Gate::PasswordChange, |_, _| Ok(())).await)
    }

    // ---- codes ----------------------------------------------------------

    /// `codes`: every list, retired codes marked.
    pub async fn codes(&self) -> DeskResult<CodesDto> {
        dto(self
            .run(Gate::Ordinary, |s, _| {
                let set = s.codes()?;
                let mut out = BTreeMap::new();
                for &list in CodeList::ALL {
                    let codes = set
                        .all(list)
                        .map(|c| CodeDto {
                            code: c.code.clone(),
                            label: c.labels.clone(),
                            retired: set.is_retired(list, &c.code),
                        })
                        .collect();
                    out.insert(list.as_str().to_owned(), codes);
                }
                Ok(out)
            })
            .await)
    }

    // ---- clients --------------------------------------------------------

    /// `client_list`.
    pub async fn client_list(&self, args: ClientListQuery) -> DeskResult<Vec<ClientRow>> {
        dto(self
            .run(Gate::Ordinary, move |s, now| Ok(s.client_rows(&args, now)?))
            .await)
    }

    /// `client_names`: the clients the user may write memos for, names and birth dates
    /// only, from the search index (the quick entry's type-ahead; audited as
    /// one view of the list). `client_list` reads every record for its
    /// status and missing columns, which the type-ahead never shows.
    pub async fn client_names(&self) -> DeskResult<Vec<ClientName>> {
        dto(self
            .run(Gate::Ordinary, |s, now| {
                Ok(s.memo_clients(now)?
                    .into_iter()
                    .map(|c| ClientName {
                        id: c.id,
                        first_name: c.first_name,
                        last_name: c.last_name,
                        birth_date: c.birth_date,
                    })
                    .collect())
            })
            .await)
    }

    /// `client_view`.
    pub async fn client_view(&self, args: ClientArgs) -> DeskResult<ClientViewDto> {
        dto(self
            .run(Gate::Ordinary, move |s, now| view(s, args.id, now))
            .await)
    }

    /// `client_add`.
    pub async fn client_add(&self, args: ClientAddArgs) -> DeskResult<Created<ClientId>> {
        dto(self
            .run(Gate::Ordinary, move |s, now| {
                Ok(Created {
                    id: s.add_client(args.input, now)?,
                })
            })
            .await)
    }

    /// `client_edit_basic`.
    pub async fn client_edit_basic(&self, args: EditBasicArgs) -> DeskResult<ClientViewDto> {
        self.change(args.id, move |s, now| {
            Ok(s.edit_basic(args.id, args.basic, now)?)
        })
        .await
    }

    /// `client_resolve_conflict`.
    pub async fn client_resolve_conflict(
        &self,
        args: ResolveConflictArgs,
    ) -> DeskResult<ClientViewDto> {
        self.change(args.id, move |s, now| {
            Ok(s.resolve_conflict(args.id, &args.field, &args.value, now)?)
        })
        .await
    }

    /// `client_history`.
    pub async fn client_history(&self, args: ClientArgs) -> DeskResult<Vec<HistoryRow>> {
        dto(self
            .run(Gate::Ordinary, move |s, now| {
                Ok(s.client_history(args.id, now)?)
            })
            .await)
    }

    /// Runs a change of client `id`, then returns the client as shown.
    async fn change(
        &self,
        id: ClientId,
        f: impl FnOnce(&mut Session, DateTime<Utc>) -> Result<(), DeskError> + Send + 'static,
    ) -> DeskResult<ClientViewDto> {
        dto(self
            .run(Gate::Ordinary, move |s, now| {
                f(s, now)?;
                view(s, id, now)
            })
            .await)
    }

    // ---- the record -----------------------------------------------------

    /// `background_set`.
    pub async fn background_set(&self, a: BackgroundArgs) -> DeskResult<ClientViewDto> {
        self.change(a.id, move |s, now| {
            Ok(s.set_background(a.id, a.field, &a.text, now)?)
        })
        .await
    }

    /// `situation_add`.
    pub async fn situation_add(&self, a: SituationArgs) -> DeskResult<ClientViewDto> {
        self.change(a.id, move |s, now| {
            s.add_situation(a.id, a.input, now)?;
            Ok(())
        })
        .await
    }

    /// `period_open`.
    pub async fn period_open(&self, a: PeriodOpenArgs) -> DeskResult<ClientViewDto> {
        self.change(a.id, move |s, now| {
            s.open_period(a.id, a.input, now)?;
            Ok(())
        })
        .await
    }

    /// `period_text`.
    pub async fn period_text(&self, a: PeriodTextArgs) -> DeskResult<ClientViewDto> {
        self.change(a.id, move |s, now| {
            Ok(s.set_period_text(a.id, a.period, a.which, &a.text, now)?)
        })
        .await
    }

    /// `period_close`.
    pub async fn period_close(&self, a: PeriodCloseArgs) -> DeskResult<ClientViewDto> {
        self.change(a.id, move |s, now| {
            Ok(s.close_period(a.id, a.period, a.input, now)?)
        })
        .await
    }

    /// `measure_add`.
    pub async fn measure_add(&self, a: MeasureAddArgs) -> DeskResult<ClientViewDto> {
        self.change(a.id, move |s, now| {
            s.add_measure(a.id, a.period, &a.kind, a.start, now)?;
            Ok(())
        })
        .await
    }

    /// `measure_status`.
    pub async fn measure_status(&self, a: MeasureStatusArgs) -> DeskResult<ClientViewDto> {
        self.change(a.id, move |s, now| {
            Ok(s.set_measure_status(a.id, a.period, a.measure, a.status, a.end, now)?)
        })
        .await
    }

    /// `memo_add`.
    pub async fn memo_add(&self, a: MemoAddArgs) -> DeskResult<ClientViewDto> {
        self.change(a.id, move |s, now| {
            s.add_memo(a.id, &a.text, a.kind.as_deref(), now)?;
            Ok(())
        })
        .await
    }

    /// `memo_add_quick`: the quick entry's memo, saved and nothing more (no
    /// view of the client back: `memo_add` reads the client again, checks
    /// what it lacks and its conflicts and audits those views, three times
    /// the work of the save, which the quick entry never shows).
    pub async fn memo_add_quick(&self, a: MemoAddArgs) -> DeskResult<Created<polku_core::MemoId>> {
        dto(self
            .run(Gate::Ordinary, move |s, now| {
                let id = s.add_memo(a.id, &a.text, a.kind.as_deref(), now)?;
                Ok(Created { id })
            })
            .await)
    }

    /// `memo_edit`.
    pub async fn memo_edit(&self, a: MemoEditArgs) -> DeskResult<ClientViewDto> {
        self.change(a.id, move |s, now| {
            Ok(s.edit_memo(a.id, a.memo, &a.text, now)?)
        })
        .await
    }

    /// `memo_delete`.
    pub async fn memo_delete(&self, a: MemoArgs) -> DeskResult<ClientViewDto> {
        self.change(a.id, move |s, now| Ok(s.delete_memo(a.id, a.memo, now)?))
            .await
    }

    /// `memo_restore`.
    pub async fn memo_restore(&self, a: MemoArgs) -> DeskResult<ClientViewDto> {
        self.change(a.id, move |s, now| Ok(s.restore_memo(a.id, a.memo, now)?))
            .await
    }

    /// `referral_add`.
    pub async fn referral_add(&self, a: ReferralArgs) -> DeskResult<ClientViewDto> {
        self.change(a.id, move |s, now| {
            s.add_referral(a.id, a.input, now)?;
            Ok(())
        })
        .await
    }

    /// `consent_add`.
    pub async fn consent_add(&self, a: ConsentAddArgs) -> DeskResult<ClientViewDto> {
        self.change(a.id, move |s, now| {
            s.add_consent(a.id, a.topic, a.given, &a.note, now)?;
            Ok(())
        })
        .await
    }

    /// `consent_withdraw`.
    pub async fn consent_withdraw(&self, a: ConsentWithdrawArgs) -> DeskResult<ClientViewDto> {
        self.change(a.id, move |s, now| {
            Ok(s.withdraw_consent(a.id, a.consent, a.date, now)?)
        })
        .await
    }

    /// `disclosure_add`.
    pub async fn disclosure_add(&self, a: DisclosureArgs) -> DeskResult<ClientViewDto> {
        self.change(a.id, move |s, now| {
            s.add_disclosure(a.id, a.input, now)?;
            Ok(())
        })
        .await
    }

    /// `attachment_add`.
    pub async fn attachment_add(&self, a: AttachmentAddArgs) -> DeskResult<Vec<AttachmentRow>> {
        // base64 is 4/3 of the bytes: refuse before decoding anything large.
        if a.bytes_base64.len() as u64 > MAX_ATTACHMENT_BYTES / 3 * 4 + 4 {
            return Err(DeskError::TooLarge {
                max: MAX_ATTACHMENT_BYTES,
            }
            .to_dto());
        }
        let bytes = B64
            .decode(a.bytes_base64.as_bytes())
            .map_err(|_| DeskError::BadArgument("bytes_base64").to_dto())?;
        dto(self
            .run(Gate::Ordinary, move |s, now| {
                s.add_attachment(a.id, bytes.as_slice(), &a.name, now)?;
                attachment_rows(s, a.id, now)
            })
            .await)
    }

    /// `attachment_list`.
    pub async fn attachment_list(&self, a: ClientArgs) -> DeskResult<Vec<AttachmentRow>> {
        dto(self
            .run(Gate::Ordinary, move |s, now| attachment_rows(s, a.id, now))
            .await)
    }

    /// `attachment_get`.
    pub async fn attachment_get(&self, a: AttachmentArgs) -> DeskResult<AttachmentData> {
        dto(self
            .run(Gate::Ordinary, move |s, now| {
                let (reference, reader) = s.open_attachment(a.id, a.attachment, now)?;
                if reference.size > MAX_ATTACHMENT_BYTES {
                    return Err(DeskError::TooLarge {
                        max: MAX_ATTACHMENT_BYTES,
                    });
                }
                let mut bytes = Vec::with_capacity(usize::try_from(reference.size).unwrap_or(0));
                reader
                    .take(MAX_ATTACHMENT_BYTES + 1)
                    .read_to_end(&mut bytes)
                    .map_err(|_| {
                        DeskError::Api(polku_api::ApiError::Invalid("attachment stream"))
                    })?;
                Ok(AttachmentData {
                    name: reference.file_name,
                    bytes_base64: B64.encode(&bytes),
                })
            })
            .await)
    }

    /// `attachment_delete`.
    pub async fn attachment_delete(&self, a: AttachmentArgs) -> DeskResult<Vec<AttachmentRow>> {
        dto(self
            .run(Gate::Ordinary, move |s, now| {
                s.delete_attachment(a.id, a.attachment, now)?;
                attachment_rows(s, a.id, now)
            })
            .await)
    }

    // ---- brief contacts and activity memos ------------------------------

    /// `contact_add`.
    pub async fn contact_add(
        &self,
        a: ContactAddArgs,
    ) -> DeskResult<Created<polku_core::BriefContactId>> {
        dto(self
            .run(Gate::Ordinary, move |s, now| {
                let i = a.input;
                let id = s.add_contact(
                    ContactInput {
                        date: i.date,
                        channel: i.channel,
                        gender: i.gender,
                        age_group: i.age_group,
                        topic: i.topic,
                        text: i.text,
                        unit: i.unit,
                    },
                    now,
                )?;
                Ok(Created { id })
            })
            .await)
    }

    /// `retention_due`: the clients past retention that the user may see,
    /// for the reminder at login (`polku_api::RetentionRow`).
    pub async fn retention_due(&self) -> DeskResult<Vec<polku_api::RetentionRow>> {
        dto(self
            .run(Gate::Ordinary, |s, now| Ok(s.retention_due(now)?))
            .await)
    }

    /// `contact_list`.
    pub async fn contact_list(&self, a: RangeArgs) -> DeskResult<Vec<ContactRow>> {
        dto(self
            .run(Gate::Ordinary, move |s, now| {
                let filter = ActivityFilter {
                    from: a.from,
                    to: a.to,
                    unit: None,
                };
                let entries = s.list_contacts(&filter, now)?;
                let org = s.organisation();
                Ok(entries
                    .into_iter()
                    .map(|e| ContactRow {
                        id: e.contact.id,
                        unit: unit_name(org, e.unit),
                        date: e.contact.date,
                        channel: e.contact.channel,
                        gender: e.contact.gender,
                        age_group: e.contact.age_group,
                        topic: e.contact.topic,
                        text: e.contact.text,
                    })
                    .collect())
            })
            .await)
    }

    /// `activity_add`.
    pub async fn activity_add(
        &self,
        a: ActivityAddArgs,
    ) -> DeskResult<Created<polku_core::ActivityMemoId>> {
        dto(self
            .run(Gate::Ordinary, move |s, now| {
                let i = a.input;
                let id = s.add_activity(
                    ActivityInput {
                        kind: i.kind,
                        date: i.date,
                        duration_minutes: i.duration_minutes,
                        place: i.place,
                        unit: i.unit,
                        workers: i.workers,
                        met: met_tuples(i.met),
                        text: i.text,
                    },
                    now,
                )?;
                Ok(Created { id })
            })
            .await)
    }

    /// `activity_list`.
    pub async fn activity_list(&self, a: RangeArgs) -> DeskResult<Vec<ActivityRow>> {
        dto(self
            .run(Gate::Ordinary, move |s, now| {
                let filter = ActivityFilter {
                    from: a.from,
                    to: a.to,
                    unit: None,
                };
                let memos = s.list_activities(&filter, now)?;
                let org = s.organisation();
                Ok(memos
                    .into_iter()
                    .map(|m| ActivityRow {
                        id: m.id,
                        unit: unit_name(org, m.unit),
                        met_total: m.met.0.values().flat_map(|a| a.values()).sum(),
                        workers: logins(org, m.workers.iter().copied()),
                        kind: m.kind,
                        date: m.date,
                        duration_minutes: m.duration_minutes,
                        place: m.place,
                    })
                    .collect())
            })
            .await)
    }

    /// `activity_show`.
    pub async fn activity_show(&self, a: ActivityArgs) -> DeskResult<ActivityDto> {
        dto(self
            .run(Gate::Ordinary, move |s, now| {
                let m = s.show_activity(a.activity, now)?;
                Ok(activity_dto(s, m))
            })
            .await)
    }

    /// `activity_edit`.
    pub async fn activity_edit(&self, a: ActivityEditArgs) -> DeskResult<ActivityDto> {
        dto(self
            .run(Gate::Ordinary, move |s, now| {
                let e = a.edit;
                // The whole table given: cells left out are set to 0.
                let met = match e.met {
                    None => Vec::new(),
                    Some(new) => {
                        let before = s.show_activity(a.activity, now)?;
                        let mut cells: Vec<(String, String, u32)> = met_list(&before)
                            .into_iter()
                            .map(|m| (m.gender, m.age_group, 0))
                            .collect();
                        cells.extend(met_tuples(new));
                        cells
                    }
                };
                s.edit_activity(
                    a.activity,
                    ActivityEdit {
                        kind: e.kind,
                        date: e.date,
                        duration_minutes: e.duration_minutes,
                        place: e.place,
                        unit: None,
                        workers: e.workers,
                        met,
                        text: e.text,
                    },
                    now,
                )?;
                let m = s.show_activity(a.activity, now)?;
                Ok(activity_dto(s, m))
            })
            .await)
    }
}
