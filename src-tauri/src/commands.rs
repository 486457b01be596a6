//! The app's commands: each forwards to [`Desk`] (docs/app-commands.md).
//! No rule and no store access here. Generated in shape, kept by hand: one
//! command per row of `command_names.rs`.

use polku_api::{ClientListQuery, ClientRow, ErrorDto, HistoryRow};
use polku_core::{ActivityMemoId, BriefContactId, ClientId};
use polku_service::desk::*;
use tauri::State;

type R<T> = Result<T, ErrorDto>;

#[tauri::command]
pub async fn app_info(desk: State<'_, Desk>) -> R<AppInfo> {
    Ok(desk.app_info())
}

#[tauri::command]
pub async fn session_state(desk: State<'_, Desk>) -> R<SessionState> {
    Ok(desk.session_state().await)
}

#[tauri::command]
pub async fn login(desk: State<'_, Desk>, args: LoginArgs) -> R<Me> {
    desk.login(args).await
}

#[tauri::command]
pub async fn change_password(desk: State<'_, Desk>, args: ChangePasswordArgs) -> R<Me> {
    desk.change_password(args).await
}

#[tauri::command]
pub async fn lock(desk: State<'_, Desk>) -> R<()> {
    desk.lock().await
}

#[tauri::command]
pub async fn unlock(desk: State<'_, Desk>, args: UnlockArgs) -> R<Me> {
    desk.unlock(args).await
}

#[tauri::command]
pub async fn logout(desk: State<'_, Desk>) -> R<()> {
    desk.logout().await
}

#[tauri::command]
pub async fn touch(desk: State<'_, Desk>) -> R<()> {
    desk.touch().await
}

#[tauri::command]
pub async fn codes(desk: State<'_, Desk>) -> R<CodesDto> {
    desk.codes().await
}

#[tauri::command]
pub async fn client_list(desk: State<'_, Desk>, args: ClientListQuery) -> R<Vec<ClientRow>> {
    desk.client_list(args).await
}

#[tauri::command]
pub async fn client_view(desk: State<'_, Desk>, args: ClientArgs) -> R<ClientViewDto> {
    desk.client_view(args).await
}

#[tauri::command]
pub async fn client_add(desk: State<'_, Desk>, args: ClientAddArgs) -> R<Created<ClientId>> {
    desk.client_add(args).await
}

#[tauri::command]
pub async fn client_edit_basic(desk: State<'_, Desk>, args: EditBasicArgs) -> R<ClientViewDto> {
    desk.client_edit_basic(args).await
}

#[tauri::command]
pub async fn client_resolve_conflict(
    desk: State<'_, Desk>,
    args: ResolveConflictArgs,
) -> R<ClientViewDto> {
    desk.client_resolve_conflict(args).await
}

#[tauri::command]
pub async fn client_history(desk: State<'_, Desk>, args: ClientArgs) -> R<Vec<HistoryRow>> {
    desk.client_history(args).await
}

#[tauri::command]
pub async fn background_set(desk: State<'_, Desk>, args: BackgroundArgs) -> R<ClientViewDto> {
    desk.background_set(args).await
}

#[tauri::command]
pub async fn situation_add(desk: State<'_, Desk>, args: SituationArgs) -> R<ClientViewDto> {
    desk.situation_add(args).await
}

#[tauri::command]
pub async fn period_open(desk: State<'_, Desk>, args: PeriodOpenArgs) -> R<ClientViewDto> {
    desk.period_open(args).await
}

#[tauri::command]
pub async fn period_text(desk: State<'_, Desk>, args: PeriodTextArgs) -> R<ClientViewDto> {
    desk.period_text(args).await
}

#[tauri::command]
pub async fn period_close(desk: State<'_, Desk>, args: PeriodCloseArgs) -> R<ClientViewDto> {
    desk.period_close(args).await
}

#[tauri::command]
pub async fn measure_add(desk: State<'_, Desk>, args: MeasureAddArgs) -> R<ClientViewDto> {
    desk.measure_add(args).await
}

#[tauri::command]
pub async fn measure_status(desk: State<'_, Desk>, args: MeasureStatusArgs) -> R<ClientViewDto> {
    desk.measure_status(args).await
}

#[tauri::command]
pub async fn memo_add(desk: State<'_, Desk>, args: MemoAddArgs) -> R<ClientViewDto> {
    desk.memo_add(args).await
}

#[tauri::command]
pub async fn memo_edit(desk: State<'_, Desk>, args: MemoEditArgs) -> R<ClientViewDto> {
    desk.memo_edit(args).await
}

#[tauri::command]
pub async fn memo_delete(desk: State<'_, Desk>, args: MemoArgs) -> R<ClientViewDto> {
    desk.memo_delete(args).await
}

#[tauri::command]
pub async fn memo_restore(desk: State<'_, Desk>, args: MemoArgs) -> R<ClientViewDto> {
    desk.memo_restore(args).await
}

#[tauri::command]
pub async fn referral_add(desk: State<'_, Desk>, args: ReferralArgs) -> R<ClientViewDto> {
    desk.referral_add(args).await
}

#[tauri::command]
pub async fn consent_add(desk: State<'_, Desk>, args: ConsentAddArgs) -> R<ClientViewDto> {
    desk.consent_add(args).await
}

#[tauri::command]
pub async fn consent_withdraw(
    desk: State<'_, Desk>,
    args: ConsentWithdrawArgs,
) -> R<ClientViewDto> {
    desk.consent_withdraw(args).await
}

#[tauri::command]
pub async fn disclosure_add(desk: State<'_, Desk>, args: DisclosureArgs) -> R<ClientViewDto> {
    desk.disclosure_add(args).await
}

#[tauri::command]
pub async fn attachment_add(
    desk: State<'_, Desk>,
    args: AttachmentAddArgs,
) -> R<Vec<AttachmentRow>> {
    desk.attachment_add(args).await
}

#[tauri::command]
pub async fn attachment_list(desk: State<'_, Desk>, args: ClientArgs) -> R<Vec<AttachmentRow>> {
    desk.attachment_list(args).await
}

#[tauri::command]
pub async fn attachment_get(desk: State<'_, Desk>, args: AttachmentArgs) -> R<AttachmentData> {
    desk.attachment_get(args).await
}

#[tauri::command]
pub async fn attachment_delete(
    desk: State<'_, Desk>,
    args: AttachmentArgs,
) -> R<Vec<AttachmentRow>> {
    desk.attachment_delete(args).await
}

#[tauri::command]
pub async fn contact_add(
    desk: State<'_, Desk>,
    args: ContactAddArgs,
) -> R<Created<BriefContactId>> {
    desk.contact_add(args).await
}

#[tauri::command]
pub async fn contact_list(desk: State<'_, Desk>, args: RangeArgs) -> R<Vec<ContactRow>> {
    desk.contact_list(args).await
}

#[tauri::command]
pub async fn activity_add(
    desk: State<'_, Desk>,
    args: ActivityAddArgs,
) -> R<Created<ActivityMemoId>> {
    desk.activity_add(args).await
}

#[tauri::command]
pub async fn activity_list(desk: State<'_, Desk>, args: RangeArgs) -> R<Vec<ActivityRow>> {
    desk.activity_list(args).await
}

#[tauri::command]
pub async fn activity_show(desk: State<'_, Desk>, args: ActivityArgs) -> R<ActivityDto> {
    desk.activity_show(args).await
}

#[tauri::command]
pub async fn activity_edit(desk: State<'_, Desk>, args: ActivityEditArgs) -> R<ActivityDto> {
    desk.activity_edit(args).await
}

#[tauri::command]
pub async fn sync_status(desk: State<'_, Desk>) -> R<SyncStatus> {
    desk.sync_status().await
}

#[tauri::command]
pub async fn sync_now(desk: State<'_, Desk>) -> R<SyncStatus> {
    desk.sync_now().await
}

#[tauri::command]
pub async fn memo_add_quick(
    desk: State<'_, Desk>,
    args: MemoAddArgs,
) -> R<Created<polku_core::MemoId>> {
    desk.memo_add_quick(args).await
}

#[tauri::command]
pub async fn client_names(desk: State<'_, Desk>) -> R<Vec<ClientName>> {
    desk.client_names().await
}

#[tauri::command]
pub async fn retention_due(desk: State<'_, Desk>) -> R<Vec<polku_api::RetentionRow>> {
    desk.retention_due().await
}
