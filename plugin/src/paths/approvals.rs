//! `approvals/` (list), `approvals/{id}` (read), `approvals/{id}/approve`,
//! `approvals/{id}/reject` and `approvals/{id}/sign`: the M-of-N approval
//! flow of signing requests (see `crate::approvals`). Outside
//! `wallets/{name}/`: a signer's grant on a wallet does not reach them.

use std::sync::Arc;

use serde_json::{Map, Value, json};

use crate::approvals::{
    APPROVED, ApprovalEntry, EXPIRED, Mark, PENDING, REJECTED, SIGNED, WALLET_DELETED, unix_now,
};
use crate::backend::Crypto;
use crate::logical::field::FieldData;
use crate::logical::{Ctx, Field, HandlerResult, LogicalError, Operation, Path, Response, handler};
use crate::policy::PolicyEntry;
use crate::store::NameGuard;

const LIST_SYNOPSIS: &str = "List the signing requests waiting for approvals or their signature.";
const LIST_DESCRIPTION: &str = "\
Returns `keys`, the ids of requests still pending (waiting for approvals, or approved and \
waiting for their requester to sign), and `key_info` with each one's wallet, chain, \
operation, status, approvals so far, required and expires_at. `wallet` filters by wallet. \
Requests that ended (signed, rejected, expired, wallet deleted) are readable by id.";

const READ_SYNOPSIS: &str = "Read a signing request that needs approvals.";
const READ_DESCRIPTION: &str = "\
Returns the request's wallet, chain, operation, decoded `intent` (the request itself is never \
shown), requester_entity_id and requester_name, approvals (entity, name, time), required, \
approver_group, status (pending, approved, signed, rejected, expired, wallet_deleted), \
rejected_by, created_at, expires_at and signed_at.

A signing request waits when the wallet's policy on its chain sets approvals_required (and \
the amount is above approval_above, when set): the signing path answers `status` pending with \
`approval_id`, `required`, `expires_at` and the `intent`, and no signature. The policy is \
evaluated first (a refused request is never queued) and counts nothing until the signature.";

const APPROVE_SYNOPSIS: &str = "Approve a signing request (a member of its approver group).";
const APPROVE_DESCRIPTION: &str = "\
Records the caller's identity entity as an approver. Only a member of the policy's \
approver_group (the group in force now, and membership resolved now through the host's \
identity store) may approve, never the \
requester's own entity, and never a token without an entity (such as a root token): a 403 \
`policy approvals: ...`. An entity counts once (approving again changes nothing). Ended \
requests are a 400 naming their status.";

const REJECT_SYNOPSIS: &str = "Reject a signing request (a member of its approver group).";
const REJECT_DESCRIPTION: &str = "\
Ends the request with status rejected; the same callers as approve may reject. One \
rejection is enough.";

const SIGN_SYNOPSIS: &str = "Obtain the signature of an approved request (its requester).";
const SIGN_DESCRIPTION: &str = "\
Once `required` distinct approvals are in, the requester's entity obtains the signature of \
exactly the stored request: it runs again through its signing path, with the wallet's policy \
evaluated again and its daily limits counted now. The response is that path's response plus \
`approval_id` and `status` signed. One signature per request: the status is written before \
the signature is returned, and a second call is a 400. A refusal by the policy (e.g. a daily \
limit reached meanwhile) leaves the request approved, to be signed later before it expires.";

/// Approval ids: 32 lower-case hex digits.
fn id_field() -> Field {
    Field::string("id", "The approval id (32 lower-case hex digits).").required()
}

pub fn list_path() -> Path<Crypto> {
    Path::new("approvals/")
        .field(Field::name("wallet", "Only the requests of this wallet."))
        .operation(
            Operation::List,
            "List the pending signing requests.",
            handler(list),
        )
        .help(LIST_SYNOPSIS, LIST_DESCRIPTION)
}

pub fn read_path() -> Path<Crypto> {
    Path::new("approvals/{id}")
        .field(id_field())
        .operation(
            Operation::Read,
            "Read a signing request that needs approvals.",
            handler(read),
        )
        .help(READ_SYNOPSIS, READ_DESCRIPTION)
}

pub fn approve_path() -> Path<Crypto> {
    Path::new("approvals/{id}/approve")
        .field(id_field())
        .operation(
            Operation::Update,
            "Approve a signing request.",
            handler(approve),
        )
        .strict_fields()
        .help(APPROVE_SYNOPSIS, APPROVE_DESCRIPTION)
}

pub fn reject_path() -> Path<Crypto> {
    Path::new("approvals/{id}/reject")
        .field(id_field())
        .operation(
            Operation::Update,
            "Reject a signing request.",
            handler(reject),
        )
        .strict_fields()
        .help(REJECT_SYNOPSIS, REJECT_DESCRIPTION)
}

pub fn sign_path() -> Path<Crypto> {
    Path::new("approvals/{id}/sign")
        .field(id_field())
        .operation(
            Operation::Update,
            "Obtain the signature of an approved request.",
            handler(sign),
        )
        .strict_fields()
        .help(SIGN_SYNOPSIS, SIGN_DESCRIPTION)
}

fn deny(reason: impl Into<String>) -> LogicalError {
    LogicalError::PermissionDenied(format!("policy approvals: {}", reason.into()))
}

fn approval_id(ctx: &Ctx) -> Result<String, LogicalError> {
    let id = ctx.fields.str("id").unwrap_or_default();
    if id.len() != 32 || !id.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(LogicalError::BadRequest(
            "invalid value for field \"id\": an approval id is 32 lower-case hex digits".into(),
        ));
    }
    Ok(id.to_string())
}

fn not_found(id: &str) -> LogicalError {
    LogicalError::NotFound(format!("approval \"{id}\" not found"))
}

/// The record and its status now.
async fn load(
    state: &Crypto,
    ctx: &Ctx,
    id: &str,
) -> Result<(ApprovalEntry, &'static str), LogicalError> {
    let storage = ctx.storage.as_ref();
    let record = state
        .store
        .approval::<ApprovalEntry>(storage, id)
        .await?
        .ok_or_else(|| not_found(id))?;
    let created = state
        .store
        .wallet_created_time(storage, &record.wallet)
        .await?;
    let status = record.status_at(unix_now(), created.as_deref());
    Ok((record, status))
}

async fn list(state: Arc<Crypto>, ctx: Ctx) -> HandlerResult {
    let storage = ctx.storage.as_ref();
    let filter = ctx.fields.str("wallet");
    let now = unix_now();
    let mut keys = Vec::new();
    let mut info = Map::new();
    for id in state.store.list_approvals(storage).await? {
        let Some(record) = state.store.approval::<ApprovalEntry>(storage, &id).await? else {
            continue;
        };
        if filter.is_some_and(|w| w != record.wallet) {
            continue;
        }
        // Cheap statuses first: the wallet is read only for live requests.
        if matches!(record.status.as_str(), SIGNED | REJECTED) || now >= record.expires_at {
            continue;
        }
        let created = state
            .store
            .wallet_created_time(storage, &record.wallet)
            .await?;
        let status = record.status_at(now, created.as_deref());
        if !matches!(status, PENDING | APPROVED) {
            continue;
        }
        info.insert(
            id.clone(),
            json!({
                "wallet": record.wallet,
                "chain": record.chain,
                "operation": record.operation,
                "status": status,
                "approvals": record.approvals.len(),
                "required": record.required,
                "expires_at": crate::approvals::rfc3339(record.expires_at),
            }),
        );
        keys.push(id);
    }
    let mut data = Map::new();
    data.insert("keys".into(), json!(keys));
    data.insert("key_info".into(), Value::Object(info));
    Ok(Some(Response::with_data(data)))
}

async fn read(state: Arc<Crypto>, ctx: Ctx) -> HandlerResult {
    let id = approval_id(&ctx)?;
    let (record, status) = load(&state, &ctx, &id).await?;
    Ok(Some(Response::with_data(record.view(status))))
}

/// A request that can no longer change: a 400 naming its status.
fn ended(id: &str, status: &str) -> LogicalError {
    let why = match status {
        SIGNED => "it was signed already (one signature per request)",
        REJECTED => "it was rejected",
        EXPIRED => "it expired",
        WALLET_DELETED => "its wallet was deleted",
        _ => "it ended",
    };
    LogicalError::BadRequest(format!("approval \"{id}\" has status {status}: {why}"))
}

/// The group whose members approve `record` now: the policy's current
/// approver_group when the policy still requires approvals (an operator who
/// changes the group changes who approves waiting requests), else the group
/// recorded with the request.
async fn approver_group(
    state: &Crypto,
    ctx: &Ctx,
    record: &ApprovalEntry,
) -> Result<String, LogicalError> {
    let policy = state
        .store
        .policy::<PolicyEntry>(ctx.storage.as_ref(), &record.wallet, &record.chain)
        .await?;
    Ok(policy
        .filter(|p| p.approvals_required > 0)
        .and_then(|p| p.approver_group)
        .unwrap_or_else(|| record.approver_group.clone()))
}

/// The caller as an approver of `record`: a member of its group, not its
/// requester, with an entity.
async fn approver(state: &Crypto, ctx: &Ctx, record: &ApprovalEntry) -> Result<Mark, LogicalError> {
    if ctx.entity_id.is_empty() {
        return Err(deny(
            "a token without an identity entity (such as a root token) cannot approve or reject",
        ));
    }
    if ctx.entity_id == record.requester_entity_id {
        return Err(deny(
            "the requester's own entity cannot approve or reject its request",
        ));
    }
    let group = approver_group(state, ctx, record).await?;
    let groups = ctx.identity.group_names(&ctx.entity_id).await?;
    if !groups.contains(&group) {
        return Err(deny(format!(
            "the caller's entity is not a member of the approver group {group:?}"
        )));
    }
    let name = ctx
        .identity
        .entity_name(&ctx.entity_id)
        .await?
        .unwrap_or_default();
    Ok(Mark {
        entity_id: ctx.entity_id.clone(),
        entity_name: name,
        time: unix_now(),
    })
}

/// Approve or reject under the approval's lock.
async fn decide(state: Arc<Crypto>, ctx: Ctx, approve: bool) -> HandlerResult {
    let id = approval_id(&ctx)?;
    let guard = state.store.lock_approval(&id).await;
    let (mut record, status) = load(&state, &ctx, &id).await?;
    if !matches!(status, PENDING | APPROVED) {
        return Err(ended(&id, status));
    }
    let mark = approver(&state, &ctx, &record).await?;
    let mut warnings = Vec::new();
    if approve {
        if record
            .approvals
            .iter()
            .any(|m| m.entity_id == mark.entity_id)
        {
            warnings.push("this entity approved already; an entity counts once".to_string());
        } else {
            record.approvals.push(mark);
            write(&state, &ctx, &guard, &record).await?;
        }
    } else {
        record.status = REJECTED.into();
        record.rejected_by = Some(mark);
        write(&state, &ctx, &guard, &record).await?;
    }
    log::info!(approval_id = id.as_str(), wallet = record.wallet.as_str(); "approval {}", if approve { "approved" } else { "rejected" });
    let status = record.status_at(unix_now(), Some(&record.wallet_created));
    let mut resp = Response::with_data(record.view(status));
    resp.warnings = warnings;
    Ok(Some(resp))
}

async fn write(
    state: &Crypto,
    ctx: &Ctx,
    guard: &NameGuard,
    record: &ApprovalEntry,
) -> Result<(), LogicalError> {
    state
        .store
        .put_approval(guard, ctx.storage.as_ref(), record)
        .await
}

async fn approve(state: Arc<Crypto>, ctx: Ctx) -> HandlerResult {
    decide(state, ctx, true).await
}

async fn reject(state: Arc<Crypto>, ctx: Ctx) -> HandlerResult {
    decide(state, ctx, false).await
}

/// Re-runs the stored request through its signing path and marks the
/// request signed before the signature is returned, all under the
/// approval's lock (so two concurrent calls on a node give one signature;
/// on a standby the status write fails and the host forwards the request
/// to the active node, where the lock applies).
async fn sign(state: Arc<Crypto>, ctx: Ctx) -> HandlerResult {
    let id = approval_id(&ctx)?;
    let guard = state.store.lock_approval(&id).await;
    let (mut record, status) = load(&state, &ctx, &id).await?;
    if ctx.entity_id.is_empty() || ctx.entity_id != record.requester_entity_id {
        return Err(deny(
            "only the requester's entity can obtain the signature of an approved request",
        ));
    }
    match status {
        APPROVED => {}
        PENDING => {
            return Err(deny(format!(
                "{} of {} approvals so far",
                record.approvals.len(),
                record.required
            )));
        }
        other => return Err(ended(&id, other)),
    }
    let paths = crate::backend::paths();
    let (path, captures) = paths
        .iter()
        .find_map(|p| p.pattern.matches(&record.path).map(|c| (p, c)))
        .ok_or_else(|| LogicalError::Internal("the stored request has no path".into()))?;
    let spec = path
        .find_operation(&Operation::Update)
        .ok_or_else(|| LogicalError::Internal("the stored request has no handler".into()))?;
    let mut raw = record.request.clone();
    for (k, v) in captures {
        raw.insert(k, v);
    }
    let (fields, _) = FieldData::parse(&path.fields, raw, true)?;
    let rerun = Ctx {
        operation: Operation::Update,
        path: record.path.clone(),
        fields,
        storage: Arc::clone(&ctx.storage),
        mount_point: ctx.mount_point.clone(),
        request_id: ctx.request_id.clone(),
        entity_id: ctx.entity_id.clone(),
        identity: Arc::clone(&ctx.identity),
        approved: Some(id.clone()),
    };
    let response = (spec.handler)(Arc::clone(&state), rerun).await?;
    let mut response = response
        .ok_or_else(|| LogicalError::Internal("the signing path answered nothing".into()))?;
    if response.data.get("status").and_then(Value::as_str) == Some(PENDING) {
        return Err(LogicalError::Internal(
            "an approved request was queued again".into(),
        ));
    }
    // The status is written before the signature leaves: if this write
    // fails (a standby's read-only storage), no signature is returned.
    record.status = SIGNED.into();
    record.signed_at = Some(unix_now());
    write(&state, &ctx, &guard, &record).await?;
    log::info!(approval_id = id.as_str(), wallet = record.wallet.as_str(); "approved request signed");
    response.data.insert("approval_id".into(), json!(id));
    response.data.insert("status".into(), json!(SIGNED));
    Ok(Some(response))
}
