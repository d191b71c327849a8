//! Two approvers release a large transfer: the requester's signing request waits, two
//! members of the policy's approver group approve it with their own tokens, and the
//! requester collects the signature of exactly what was requested.
//!
//! Setup (once, as an operator): a policy such as
//! `bao write crypto/policies/treasury/ethereum approvals_required=2 approver_group=finance
//! approval_above=1000000000000000000`, an identity group `finance` with the approvers'
//! entities, and tokens from logins (a root token has no entity and can neither request
//! nor approve). Then:
//!
//! ```sh
//! VAULT_ADDR=http://127.0.0.1:8200 VAULT_TOKEN=<requester> APPROVER_1_TOKEN=<alice> \
//!   APPROVER_2_TOKEN=<bob> cargo run -p vault-crypto-sdk --example approvals -- treasury
//! ```

use vault_crypto_sdk::approvals::Signing;
use vault_crypto_sdk::ethereum::{SignTransaction, SignedTransaction};
use vault_crypto_sdk::{Client, Config};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let name = std::env::args().nth(1).unwrap_or_else(|| "treasury".into());
    let requester = Client::from_env()?;
    let approver = |var: &str| -> Result<Client, Box<dyn std::error::Error>> {
        let token = std::env::var(var).map_err(|_| format!("{var} is not set"))?;
        Ok(Client::new(Config::from_env()?.with_token(token))?)
    };
    let (alice, bob) = (approver("APPROVER_1_TOKEN")?, approver("APPROVER_2_TOKEN")?);

    // 5 ether to 0x…dEaD on Sepolia, nonce 0: above the threshold.
    let tx = SignTransaction::legacy(11_155_111, 0, 21_000, 1_000_000_000u64)
        .to("0x000000000000000000000000000000000000dEaD")
        .value(5_000_000_000_000_000_000u128);
    let pending = match requester.ethereum().request_transaction(&name, &tx).await? {
        Signing::Signed(signed) => {
            println!("signed at once: {}", signed.signed_transaction);
            return Ok(());
        }
        Signing::Pending(p) => p,
    };
    println!(
        "waiting: {} needs {} approvals before {}; intent {}",
        pending.approval_id, pending.required, pending.expires_at, pending.intent
    );
    for c in [&alice, &bob] {
        let a = c.approvals().approve(&pending.approval_id).await?;
        println!("{} approvals, status {}", a.approvals.len(), a.status);
    }
    let signed: SignedTransaction = requester.approvals().sign(&pending.approval_id).await?;
    println!("tx hash {}", signed.transaction_hash);
    println!("raw     {}", signed.signed_transaction);
    Ok(())
}
