//! alloy integration (feature `alloy`): [`VaultSigner`] implements `alloy_signer::Signer` and
//! `alloy_network::TxSigner<Signature>`, so an alloy application signs inside Vault with no
//! key material in the process.
//!
//! | alloy call | engine path | needs |
//! |---|---|---|
//! | `sign_transaction` (legacy, EIP-2930, EIP-1559, EIP-4844, EIP-7702) | `ethereum/sign-transaction` | policy allows it (types 3/4: blob fee, delegates) |
//! | [`VaultSigner::sign_authorization`] (EIP-7702, alloy's `SignedAuthorization`) | `ethereum/sign-authorization` | policy lists the delegate |
//! | `sign_message` | `ethereum/sign-message` | policy (chain ids only) |
//! | `sign_dynamic_typed_data` (v4 JSON) | `ethereum/sign-typed-data` | policy (chain ids only) |
//! | [`VaultSigner::sign_typed_struct`] (`sol!` structs, as v4 JSON) | `ethereum/sign-typed-data` | policy allows it |
//! | `sign_hash`, alloy's `sign_typed_data` (`sol!` structs: digest) | `sign-hash` | wallet `allow_raw_signing=true` and no ethereum policy |
//!
//! Every signature is checked locally before it is returned: the address recovered from the
//! digest alloy computed must be the signer's. A server that signed something else (or with
//! another key) is an error, never a bad transaction on the wire.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use alloy_network::{EthereumWallet, TxSigner};
//! use alloy_signer::Signer;
//! use vault_crypto_sdk::{Client, KeySelection, alloy::VaultSigner};
//!
//! let client = Client::from_env()?;
//! let signer = VaultSigner::new(client, "treasury", KeySelection::default())
//!     .await?
//!     .with_chain_id(Some(1));
//! let sig = signer.sign_message(b"hello").await?;
//! assert_eq!(sig.recover_address_from_msg(b"hello")?, Signer::address(&signer));
//! let wallet = EthereumWallet::from(signer); // for a provider's `.wallet(...)`
//! # let _ = wallet; Ok(()) }
//! ```

use alloy_consensus::SignableTransaction;
use alloy_dyn_abi::TypedData;
use alloy_network::TxSigner;
use alloy_primitives::{Address, B256, ChainId, Signature, TxKind, U256};
use alloy_signer::{Error as SignerError, Result as SignerResult, Signer};
use async_trait::async_trait;

use crate::client::{Client, check_name};
use crate::error::{Error, Result};
use crate::ethereum::{
    AccessListItem, AuthorizationTuple, SignAuthorization, SignMessage, SignTransaction,
    SignTypedData, TxType,
};
use crate::sign_hash::SignHash;
use crate::types::{Chain, KeySelection, Quantity};

/// An alloy signer whose key lives in Vault.
#[derive(Clone, Debug)]
pub struct VaultSigner {
    client: Client,
    wallet: String,
    key: KeySelection,
    address: Address,
    chain_id: Option<ChainId>,
}

fn other(e: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>) -> SignerError {
    SignerError::other(e)
}

fn parse_sig(s: &str) -> SignerResult<Signature> {
    let bytes =
        crate::hex::decode(s).ok_or_else(|| other(format!("server signature {s:?} is not hex")))?;
    Signature::from_raw(&bytes).map_err(|e| other(format!("server signature: {e}")))
}

fn parse_u256(field: &str, s: &str) -> SignerResult<U256> {
    s.parse::<U256>()
        .map_err(|e| other(format!("server `{field}` {s:?}: {e}")))
}

impl VaultSigner {
    /// Look up the Ethereum address of `key` in `wallet` and build a signer for it.
    pub async fn new(client: Client, wallet: &str, key: KeySelection) -> Result<Self> {
        check_name("wallet", wallet)?;
        let a = client
            .addresses()
            .get(
                wallet,
                Chain::Ethereum,
                &crate::addresses::AddressRequest::default().with_key(key.clone()),
            )
            .await?;
        let address: Address = a
            .address
            .parse()
            .map_err(|e| Error::decode("addresses/ethereum", e))?;
        Ok(VaultSigner {
            client,
            wallet: wallet.to_owned(),
            key,
            address,
            chain_id: None,
        })
    }

    /// A signer for a known address (no request made). Every signature is still checked
    /// against `address`.
    pub fn with_address(
        client: Client,
        wallet: &str,
        key: KeySelection,
        address: Address,
    ) -> Result<Self> {
        check_name("wallet", wallet)?;
        Ok(VaultSigner {
            client,
            wallet: wallet.to_owned(),
            key,
            address,
            chain_id: None,
        })
    }

    /// The wallet name.
    pub fn wallet(&self) -> &str {
        &self.wallet
    }

    fn check(&self, sig: Signature, prehash: &B256) -> SignerResult<Signature> {
        let got = sig
            .recover_address_from_prehash(prehash)
            .map_err(|e| other(format!("recovering the signer: {e}")))?;
        if got != self.address {
            return Err(other(format!(
                "vault returned a signature by {got}, expected {} over {prehash}",
                self.address
            )));
        }
        Ok(sig)
    }

    /// EIP-712 for a `sol!` struct through the policy-checked `ethereum/sign-typed-data`:
    /// the struct and domain travel as v4 JSON (alloy's `TypedData::from_struct`), so the
    /// wallet's policy sees (and decodes) what is signed. Prefer this to alloy's
    /// `Signer::sign_typed_data`, whose generic bound gives no JSON form and so signs the bare
    /// digest through `sign-hash`, which a wallet with an ethereum policy refuses.
    pub async fn sign_typed_struct<T>(
        &self,
        payload: &T,
        domain: &alloy_dyn_abi::Eip712Domain,
    ) -> SignerResult<Signature>
    where
        T: alloy_sol_types::SolStruct + serde::Serialize + Send + Sync,
    {
        let typed = TypedData::from_struct(payload, Some(domain.clone()));
        self.typed(&typed).await
    }

    async fn typed(&self, data: &TypedData) -> SignerResult<Signature> {
        let expected = data.eip712_signing_hash()?;
        let json = serde_json::to_value(data).map_err(other)?;
        let req = SignTypedData::new(json).key(self.key.clone());
        let r = self
            .client
            .ethereum()
            .sign_typed_data(&self.wallet, &req)
            .await
            .map_err(other)?;
        self.check(parse_sig(&r.signature)?, &expected)
    }

    /// EIP-7702: sign `auth` through the policy-checked `ethereum/sign-authorization` and
    /// return alloy's [`SignedAuthorization`](alloy_eips::eip7702::SignedAuthorization),
    /// checked to recover to this signer. A chain id above 64 bits is refused locally.
    pub async fn sign_authorization(
        &self,
        auth: alloy_eips::eip7702::Authorization,
    ) -> SignerResult<alloy_eips::eip7702::SignedAuthorization> {
        let chain_id = u64::try_from(auth.chain_id)
            .map_err(|_| other("the authorization's chain id exceeds 64 bits"))?;
        let req = SignAuthorization::new(chain_id, auth.address.to_checksum(None), auth.nonce)
            .key(self.key.clone());
        let r = self
            .client
            .ethereum()
            .sign_authorization(&self.wallet, &req)
            .await
            .map_err(other)?;
        let sig = self.check(parse_sig(&r.signature)?, &auth.signature_hash())?;
        Ok(auth.into_signed(sig))
    }

    fn request_for(
        &self,
        tx: &dyn SignableTransaction<Signature>,
    ) -> SignerResult<SignTransaction> {
        let chain_id = tx.chain_id().ok_or_else(|| {
            other("the transaction has no chain id (the engine signs with EIP-155 only)")
        })?;
        let access_list = tx.access_list().map(|al| {
            al.iter()
                .map(|i| {
                    AccessListItem::new(
                        i.address.to_checksum(None),
                        i.storage_keys.iter().map(|k| k.to_string()).collect(),
                    )
                })
                .collect::<Vec<_>>()
        });
        let mut req = SignTransaction {
            key: self.key.clone(),
            chain_id,
            nonce: tx.nonce(),
            gas_limit: tx.gas_limit(),
            to: match tx.kind() {
                TxKind::Call(a) => Some(a.to_checksum(None)),
                TxKind::Create => None,
            },
            value: Some(tx.value().to_string().parse::<Quantity>().map_err(other)?),
            data: Some(crate::hex::encode_prefixed(tx.input())),
            ..Default::default()
        };
        match tx.ty() {
            0 => {
                req.tx_type = Some(TxType::Legacy);
                req.gas_price = tx.gas_price().map(Quantity::from);
            }
            1 => {
                req.tx_type = Some(TxType::Eip2930);
                req.gas_price = tx.gas_price().map(Quantity::from);
                req.access_list = access_list;
            }
            2..=4 => {
                req.tx_type = Some(TxType::Eip1559);
                req.max_fee_per_gas = Some(tx.max_fee_per_gas().into());
                req.max_priority_fee_per_gas =
                    Some(tx.max_priority_fee_per_gas().unwrap_or_default().into());
                req.access_list = access_list;
                if tx.ty() == 3 {
                    // The signature hash of a blob transaction leaves the sidecar out: the
                    // engine signs the consensus form, alloy wraps it for the network.
                    req.tx_type = Some(TxType::Eip4844);
                    req.max_fee_per_blob_gas = tx.max_fee_per_blob_gas().map(Quantity::from);
                    req.blob_versioned_hashes = tx
                        .blob_versioned_hashes()
                        .map(|h| h.iter().map(|h| h.to_string()).collect());
                }
                if tx.ty() == 4 {
                    req.tx_type = Some(TxType::Eip7702);
                    let mut list = Vec::new();
                    for a in tx.authorization_list().unwrap_or_default() {
                        list.push(AuthorizationTuple::new(
                            a.chain_id()
                                .to_string()
                                .parse::<Quantity>()
                                .map_err(other)?,
                            a.address().to_checksum(None),
                            a.nonce(),
                            a.y_parity(),
                            B256::from(a.r()).to_string(),
                            B256::from(a.s()).to_string(),
                        ));
                    }
                    req.authorization_list = Some(list);
                }
            }
            t => {
                return Err(other(format!(
                    "transaction type {t} is not supported by the engine"
                )));
            }
        }
        Ok(req)
    }
}

#[async_trait]
impl Signer for VaultSigner {
    /// Raw digest through `sign-hash`: the wallet needs `allow_raw_signing=true`.
    async fn sign_hash(&self, hash: &B256) -> SignerResult<Signature> {
        let req = SignHash::new(Chain::Ethereum, hash.as_slice()).key(self.key.clone());
        let r = self
            .client
            .sign_hash(&self.wallet, &req)
            .await
            .map_err(other)?;
        self.check(parse_sig(&r.signature)?, hash)
    }

    /// EIP-191 through `ethereum/sign-message` (no raw signing needed).
    async fn sign_message(&self, message: &[u8]) -> SignerResult<Signature> {
        let req = SignMessage::bytes(message).key(self.key.clone());
        let r = self
            .client
            .ethereum()
            .sign_message(&self.wallet, &req)
            .await
            .map_err(other)?;
        let expected = alloy_primitives::eip191_hash_message(message);
        self.check(parse_sig(&r.signature)?, &expected)
    }

    // `sign_typed_data::<T: SolStruct>` keeps alloy's default (sign the EIP-712 digest with
    // `sign_hash`): a `sol!` struct cannot be turned back into v4 JSON generically, so it
    // needs `allow_raw_signing`. JSON typed data goes through the policy-checked path:

    /// EIP-712 v4 JSON through `ethereum/sign-typed-data` (no raw signing needed).
    async fn sign_dynamic_typed_data(&self, payload: &TypedData) -> SignerResult<Signature> {
        self.typed(payload).await
    }

    fn address(&self) -> Address {
        self.address
    }

    fn chain_id(&self) -> Option<ChainId> {
        self.chain_id
    }

    fn set_chain_id(&mut self, chain_id: Option<ChainId>) {
        self.chain_id = chain_id;
    }
}

#[async_trait]
impl TxSigner<Signature> for VaultSigner {
    fn address(&self) -> Address {
        self.address
    }

    async fn sign_transaction(
        &self,
        tx: &mut dyn SignableTransaction<Signature>,
    ) -> SignerResult<Signature> {
        if let Some(chain_id) = self.chain_id
            && !tx.set_chain_id_checked(chain_id)
        {
            return Err(SignerError::TransactionChainIdMismatch {
                signer: chain_id,
                tx: tx.chain_id().unwrap_or_default(),
            });
        }
        let req = self.request_for(tx)?;
        let r = self
            .client
            .ethereum()
            .sign_transaction(&self.wallet, &req)
            .await
            .map_err(other)?;
        let rr = parse_u256("r", &r.r)?;
        let ss = parse_u256("s", &r.s)?;
        let v =
            r.v.as_ref()
                .and_then(Quantity::to_u128)
                .ok_or_else(|| other("server answer has no `v`"))?;
        // Legacy: EIP-155 v = chain_id * 2 + 35 + parity; typed: v is the y-parity.
        let parity = if tx.ty() == 0 {
            v.checked_sub(u128::from(req.chain_id) * 2 + 35)
        } else {
            Some(v)
        };
        let parity = match parity {
            Some(0) => false,
            Some(1) => true,
            _ => return Err(other(format!("server `v` {v} is not a valid parity"))),
        };
        // The engine signed what we described; check it is what alloy will broadcast.
        self.check(Signature::new(rr, ss, parity), &tx.signature_hash())
    }
}
