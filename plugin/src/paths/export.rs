//! `export/{name}` (read): the wallet's secret, only when the wallet
//! was created with `exportable=true`.

use std::sync::Arc;

use serde_json::{Map, json};

use crate::backend::Crypto;
use crate::logical::{Ctx, HandlerResult, LogicalError, Operation, Path, Response, handler};
use crate::paths::keysel::{load_wallet, name_field};
use crate::store::wallet::WalletKeys;

const SYNOPSIS: &str = "Export the secret of an exportable wallet.";
const DESCRIPTION: &str = "\
Returns the secret of the wallet: `mnemonic` and `passphrase` for an hd wallet, or \
`private_key` (64 hex digits) and `curve` for a key wallet. Refused with 403 unless the wallet \
was created with `exportable=true`; that flag can only be set when the wallet is created. \
This is the only path that ever returns secret material; it lives outside `wallets/<name>/` so \
that a signer's grant on that prefix never covers it.";

pub fn export_path() -> Path<Crypto> {
    Path::new("export/{name}")
        .field(name_field())
        .operation(
            Operation::Read,
            "Export the mnemonic and passphrase, or the private key, of an exportable wallet.",
            handler(export),
        )
        .help(SYNOPSIS, DESCRIPTION)
}

async fn export(state: Arc<Crypto>, ctx: Ctx) -> HandlerResult {
    let (name, wallet) = load_wallet(&state, &ctx).await?;
    if !wallet.exportable {
        return Err(LogicalError::PermissionDenied(format!(
            "wallet \"{name}\" is not exportable: export requires the flag exportable=true, \
             which can only be set when a wallet is created"
        )));
    }
    let mut data = Map::new();
    data.insert("name".into(), json!(name));
    data.insert("type".into(), json!(wallet.kind()));
    match &wallet.keys {
        WalletKeys::Hd {
            mnemonic,
            passphrase,
            ..
        } => {
            data.insert("mnemonic".into(), json!(mnemonic.expose_phrase()));
            data.insert("passphrase".into(), json!(passphrase.expose_passphrase()));
        }
        WalletKeys::Key(k) => {
            data.insert("private_key".into(), json!(k.expose_hex().expose_str()));
            data.insert("curve".into(), json!(k.curve().as_str()));
        }
    }
    log::info!(wallet = name.as_str(); "wallet exported");
    Ok(Some(Response::with_data(data)))
}
