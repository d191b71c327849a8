//! M-of-N approvals: a signing request above a policy's threshold waits,
//! stored in the host's storage, until `approvals_required` distinct
//! members of the policy's `approver_group` (a Vault/OpenBao identity
//! group) approve it; then its requester obtains the signature of exactly
//! the stored request through `approvals/{id}/sign`.
//!
//! Contract with the signing paths: after decoding the request into an
//! [`Intent`] (and loading the wallet), a path calls [`gate`] instead of
//! `policy::enforce`, and either signs ([`Gate::Sign`], the intent's JSON,
//! counted by the policy) or returns the pending answer ([`Gate::Pending`]).
//! On the pending branch the policy is evaluated (a refused request is
//! refused, never queued) but nothing is counted: daily limits count when
//! the approved request is signed, evaluated again at that moment.
//!
//! The stored request is the signing request's own fields (signing
//! requests carry no secrets; a path with a secret field cannot wait) and
//! is only ever shown through its decoded intent. `approvals/{id}/sign`
//! re-runs it through the same handler, with [`Ctx::approved`] set; the
//! gate then checks that it still decodes to the stored intent.
//!
//! The HTTP paths live in `paths::approvals`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use ruint::aliases::U256;
use wallet_core::ethereum::intent::CallIntent;

use crate::backend::Crypto;
use crate::logical::{Ctx, LogicalError, Operation, Response};
use crate::policy::{Denial, Intent, PolicyEntry, check_with, enforce_with};
use crate::store::Versioned;

/// The largest stored request: a request above it cannot wait for
/// approval (host storage entries are limited; raft's default is 1 MiB).
pub const MAX_STORED_REQUEST_BYTES: usize = 512 * 1024;

/// What a signing path does next.
#[derive(Debug)]
pub enum Gate {
    /// Sign; the intent's JSON for the response (the policy counted it).
    Sign(Value),
    /// Answer this, without a signature: the request waits for approvals.
    Pending(Response),
}

/// One approval (or the rejection) of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mark {
    pub entity_id: String,
    pub entity_name: String,
    /// Unix seconds.
    pub time: u64,
}

/// A stored request (`approval/<id>`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApprovalEntry {
    pub version: u32,
    pub id: String,
    pub wallet: String,
    /// The wallet's `created_time` when the request was made: a wallet
    /// deleted and created again under the same name is another wallet.
    pub wallet_created: String,
    pub chain: String,
    /// The signing operation, e.g. `ethereum/sign-transaction`.
    pub operation: String,
    /// The request path (relative to the mount) the request is re-run on.
    pub path: String,
    /// The fields the requester sent. Never shown: readers see `intent`.
    pub request: Map<String, Value>,
    pub intent: Value,
    pub requester_entity_id: String,
    pub requester_name: String,
    pub required: u32,
    pub approver_group: String,
    pub approvals: Vec<Mark>,
    /// `pending`, `rejected` or `signed` (expired and wallet_deleted are
    /// decided when read).
    pub status: String,
    pub rejected_by: Option<Mark>,
    pub created_at: u64,
    pub expires_at: u64,
    pub signed_at: Option<u64>,
}

impl Versioned for ApprovalEntry {
    const KIND: &'static str = "approval";
    const VERSION: u32 = 1;
    fn version(&self) -> u32 {
        self.version
    }
}

pub const PENDING: &str = "pending";
pub const APPROVED: &str = "approved";
pub const REJECTED: &str = "rejected";
pub const SIGNED: &str = "signed";
pub const EXPIRED: &str = "expired";
pub const WALLET_DELETED: &str = "wallet_deleted";

impl ApprovalEntry {
    /// The status as of `now`, given the current incarnation of the wallet
    /// (`None`: the wallet does not exist).
    pub fn status_at(&self, now: u64, wallet_created: Option<&str>) -> &'static str {
        match self.status.as_str() {
            SIGNED => SIGNED,
            REJECTED => REJECTED,
            _ if wallet_created != Some(self.wallet_created.as_str()) => WALLET_DELETED,
            _ if now >= self.expires_at => EXPIRED,
            _ if self.approvals.len() >= self.required as usize => APPROVED,
            _ => PENDING,
        }
    }

    /// The record as readers see it (never the stored request fields).
    pub fn view(&self, status: &str) -> Map<String, Value> {
        let mark = |m: &Mark| json!({"entity_id": m.entity_id, "entity_name": m.entity_name, "time": rfc3339(m.time)});
        let mut data = Map::new();
        data.insert("approval_id".into(), json!(self.id));
        data.insert("status".into(), json!(status));
        data.insert("wallet".into(), json!(self.wallet));
        data.insert("chain".into(), json!(self.chain));
        data.insert("operation".into(), json!(self.operation));
        data.insert("intent".into(), self.intent.clone());
        data.insert(
            "requester_entity_id".into(),
            json!(self.requester_entity_id),
        );
        data.insert("requester_name".into(), json!(self.requester_name));
        data.insert("required".into(), json!(self.required));
        data.insert("approver_group".into(), json!(self.approver_group));
        data.insert(
            "approvals".into(),
            Value::Array(self.approvals.iter().map(mark).collect()),
        );
        data.insert(
            "rejected_by".into(),
            self.rejected_by.as_ref().map(mark).unwrap_or(Value::Null),
        );
        data.insert("created_at".into(), json!(rfc3339(self.created_at)));
        data.insert("expires_at".into(), json!(rfc3339(self.expires_at)));
        data.insert(
            "signed_at".into(),
            self.signed_at
                .map(|t| json!(rfc3339(t)))
                .unwrap_or(Value::Null),
        );
        data
    }
}

/// Unix seconds as RFC 3339.
pub fn rfc3339(t: u64) -> String {
    i64::try_from(t)
        .ok()
        .and_then(|t| OffsetDateTime::from_unix_timestamp(t).ok())
        .and_then(|d| d.format(&Rfc3339).ok())
        .unwrap_or_default()
}

pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The amount compared with `approval_above`: the native value moved plus
/// the most the fee can be, in base units. `None` when the request is not
/// a plain movement of the native asset the engine can total (token
/// movements, contract calls, typed data, EIP-7702 authorizations alone or
/// in a type-4 transaction, an unknown bitcoin fee, undecoded solana
/// instructions): those always need approval when the
/// policy requires it. Messages move nothing.
pub fn approval_amount(intent: &Intent) -> Option<U256> {
    match intent {
        // A type-4 transaction carries authorizations that hand accounts to
        // code: like `sign-authorization`, it always waits.
        Intent::EthereumTransaction(tx) if !tx.authorizations.is_empty() => None,
        Intent::EthereumTransaction(tx) => match &tx.call {
            Ok(CallIntent::Plain) => Some(tx.value.saturating_add(tx.max_fee)),
            _ => None,
        },
        Intent::EthereumMessage(_) | Intent::SolanaMessage(_) | Intent::BitcoinMessage(_) => {
            Some(U256::ZERO)
        }
        // An authorization hands the account to code: it moves no amount
        // the engine can total, so a policy with approvals always waits.
        Intent::EthereumTypedData(_)
        | Intent::EthereumAuthorization(_)
        | Intent::RawHash { .. } => None,
        Intent::BitcoinTransaction(tx) => tx
            .fee
            .map(|fee| tx.recipients_total().saturating_add(U256::from(fee))),
        Intent::SolanaTransaction(tx) => {
            let d = tx.decoded.as_ref().ok()?;
            if !d.token_movements.is_empty()
                || !d.unknown_program_instructions.is_empty()
                || !d.undecoded_instructions.is_empty()
            {
                return None;
            }
            let lamports = d.lamport_transfers.iter().fold(U256::ZERO, |acc, t| {
                acc.saturating_add(U256::from(t.lamports))
            });
            Some(lamports.saturating_add(U256::from(d.priority_fee_lamports)))
        }
    }
}

/// Whether the policy makes this intent wait for approvals.
pub fn needs_approval(policy: &PolicyEntry, intent: &Intent) -> bool {
    if policy.approvals_required == 0 {
        return false;
    }
    match policy.approval_above {
        None => true,
        Some(above) => approval_amount(intent).is_none_or(|a| a > above),
    }
}

/// The signing operation named by a request path: what follows
/// `wallets/{name}/`, else the path itself.
fn operation_of(path: &str, wallet: &str) -> String {
    path.strip_prefix("wallets/")
        .and_then(|p| p.strip_prefix(wallet))
        .and_then(|p| p.strip_prefix('/'))
        .unwrap_or(path)
        .to_string()
}

fn denial(reason: impl Into<String>) -> LogicalError {
    Denial::new("approvals_required", reason).into_error()
}

/// Decides whether a signing request is signed now or waits. Call it once,
/// after the request is decoded into `intent` and the wallet is loaded,
/// in place of `policy::enforce`.
pub async fn gate(
    state: &Crypto,
    ctx: &Ctx,
    wallet: &str,
    intent: &Intent,
) -> Result<Gate, LogicalError> {
    let storage = ctx.storage.as_ref();
    let policy = state
        .store
        .policy::<PolicyEntry>(storage, wallet, intent.chain())
        .await?;
    let needs = policy.as_ref().is_some_and(|p| needs_approval(p, intent));

    if let Some(id) = &ctx.approved {
        // The re-run of an approved request (the caller holds its lock and
        // checked status, requester, expiry and wallet).
        let record = state
            .store
            .approval::<ApprovalEntry>(storage, id)
            .await?
            .ok_or_else(|| LogicalError::Internal("approval vanished while signing".into()))?;
        if record.wallet != wallet || record.intent != intent.to_json() {
            return Err(LogicalError::Internal(
                "the stored request no longer decodes to the approved intent".into(),
            ));
        }
        if let Some(p) = policy.as_ref().filter(|_| needs) {
            // Only approvals of members of the group in force now count:
            // an operator who replaces the group, or removes a member,
            // withdraws the approvals they gave.
            let group = p.approver_group.as_deref().unwrap_or_default();
            let mut valid = 0usize;
            for m in &record.approvals {
                if ctx
                    .identity
                    .group_names(&m.entity_id)
                    .await?
                    .iter()
                    .any(|g| g == group)
                {
                    valid += 1;
                }
            }
            if valid < p.approvals_required as usize {
                return Err(denial(format!(
                    "the policy now requires {} approvals from group {group:?} and this request \
                     has {valid} (of {} given) from its current members",
                    p.approvals_required,
                    record.approvals.len()
                )));
            }
        }
        return enforce_with(state, storage, wallet, intent, policy)
            .await
            .map(Gate::Sign);
    }

    let policy = match policy {
        Some(p) if needs => p,
        other => {
            return enforce_with(state, storage, wallet, intent, other)
                .await
                .map(Gate::Sign);
        }
    };
    // Refused requests are refused, never queued; nothing is counted.
    let outcome = check_with(state, storage, wallet, intent, Some(policy.clone())).await?;
    if let Some(d) = outcome.denial {
        return Err(d.into_error());
    }
    if ctx.entity_id.is_empty() {
        return Err(denial(format!(
            "this request needs {} approvals from group {:?}, and only a token with an identity \
             entity can wait for them and collect the signature (this token has none, like a \
             root token)",
            policy.approvals_required,
            policy.approver_group.as_deref().unwrap_or_default()
        )));
    }
    let group = policy
        .approver_group
        .clone()
        .ok_or_else(|| LogicalError::Internal("approvals_required without a group".into()))?;
    // Only requests the engine can re-run exactly may wait.
    let request = stored_request(ctx)?;
    let wallet_created = state
        .store
        .wallet_created_time(storage, wallet)
        .await?
        .ok_or_else(|| LogicalError::NotFound(format!("wallet \"{wallet}\" not found")))?;
    let requester_name = ctx
        .identity
        .entity_name(&ctx.entity_id)
        .await?
        .unwrap_or_default();
    let now = unix_now();
    let id = hex::encode(rand::random::<[u8; 16]>());
    let record = ApprovalEntry {
        version: ApprovalEntry::VERSION,
        id: id.clone(),
        wallet: wallet.to_string(),
        wallet_created,
        chain: intent.chain().to_string(),
        operation: operation_of(&ctx.path, wallet),
        path: ctx.path.clone(),
        request,
        intent: outcome.intent,
        requester_entity_id: ctx.entity_id.clone(),
        requester_name,
        required: policy.approvals_required,
        approver_group: group,
        approvals: Vec::new(),
        status: PENDING.into(),
        rejected_by: None,
        created_at: now,
        expires_at: now.saturating_add(policy.approval_ttl()),
        signed_at: None,
    };
    state.store.put_new_approval(storage, &id, &record).await?;
    log::info!(wallet = wallet, chain = intent.chain(), approval_id = id.as_str(); "signing request waits for approvals");
    let mut data = record.view(PENDING);
    data.remove("rejected_by");
    data.remove("signed_at");
    Ok(Gate::Pending(Response::with_data(data)))
}

/// The fields of the request as sent, after checking that its path can be
/// re-run: it routes to an update handler and has no secret field.
fn stored_request(ctx: &Ctx) -> Result<Map<String, Value>, LogicalError> {
    let paths = crate::backend::paths();
    let path = paths
        .iter()
        .find(|p| p.pattern.matches(&ctx.path).is_some())
        .filter(|p| p.find_operation(&Operation::Update).is_some())
        .ok_or_else(|| LogicalError::Internal(format!("{} cannot wait for approvals", ctx.path)))?;
    let mut out = Map::new();
    for name in ctx.fields.sent_fields() {
        if path.fields.iter().any(|f| f.name == name && f.secret) {
            return Err(LogicalError::Internal(format!(
                "{} has a secret field and cannot wait for approvals",
                ctx.path
            )));
        }
        if let Some(v) = ctx.fields.to_json(name) {
            out.insert(name.to_string(), v);
        }
    }
    let size = serde_json::to_vec(&out)
        .map(|v| v.len())
        .unwrap_or(usize::MAX);
    if size > MAX_STORED_REQUEST_BYTES {
        return Err(LogicalError::BadRequest(format!(
            "this request needs approval, and at {size} bytes it is larger than a waiting \
             request may be ({MAX_STORED_REQUEST_BYTES} bytes)"
        )));
    }
    Ok(out)
}
