//! The API reference `docs/api.md`, generated from the paths' own schema
//! (the same source as `vault path-help` and the OpenAPI document), and the
//! test that fails when the checked-in file is stale.
//!
//! Regenerate with `UPDATE_DOCS=1 cargo test -p vault-plugin-crypto docs::`.

use std::fmt::Write as _;

use crate::backend::paths;
use crate::logical::field::{Field, FieldType};
use crate::logical::{Operation, Path};

const INTRO: &str = "\
# The `crypto/` API reference

> Generated from the paths' own schema by `plugin/src/docs.rs` (the same text as `vault \
path-help crypto/<path>` and `sys/internal/specs/openapi`); a test fails when this file is \
stale. Regenerate with `UPDATE_DOCS=1 cargo test -p vault-plugin-crypto docs::`.

Every path is relative to the mount (`crypto/` by default): `vault write crypto/...`, \
`bao read crypto/...`, or HTTP `/v1/crypto/...` with `X-Vault-Token`.

## Conventions

- Names: `[A-Za-z0-9][A-Za-z0-9._-]{0,127}`; anything else is a 400 naming the field.
- Integers that can exceed 2^53 (wei, sats, lamports, gas, token amounts) are decimal strings in \
responses and accepted as decimal strings, `0x` hex strings or JSON integers in requests.
- Errors: malformed or missing input is a 400 naming the field; an unknown wallet or policy a \
404; a policy refusal a 403 `policy <rule>: <why>`; an operation a path does not support a \
405; only faults of the server itself are 500.
- Create means create: a `create` (the host's existence check found nothing) of a name that \
exists is a 400 saying so; an `update` of one that does not exist is a 404.
- Secrets (mnemonic, passphrase, private keys) are never returned except by `export/:name`, \
never logged and never in an error.
- Every signing response carries `intent`: what the request authorizes, as the policy \
evaluated it (recipients, amounts per asset, fee, contract and method).

## Layout and ACL roles

Administration lives outside a wallet's signing prefix, so that one glob per role is safe \
(`docs/acl/*.hcl` are the shipped ACL policies, tested with real tokens):

| Role | Grant | Can |
|---|---|---|
| signer | `crypto/wallets/<name>/*`: read, update | sign with and read addresses of that wallet |
| policy admin | `crypto/policies/*`; `crypto/wallets/+`: read, update, delete; `crypto/wallets/`: list | write, read, check and delete policies; wallet flags |
| provisioner | `crypto/wallets/*`: create, read (flags denied) | create new wallets, read public facts |
| custodian | `crypto/export/*`: read | export wallets created exportable |

## Paths
";

fn ty(f: &Field) -> &'static str {
    match f.ty {
        FieldType::String => "string",
        FieldType::Name => "name",
        FieldType::BigInt => "integer (string)",
        FieldType::Int => "int",
        FieldType::Bool => "bool",
        FieldType::StringList => "list of strings",
        FieldType::Map => "object",
        FieldType::ObjectList => "list of objects",
    }
}

fn op_name(op: &Operation) -> &'static str {
    match op {
        Operation::Create => "create",
        Operation::Update => "update",
        Operation::Read => "read",
        Operation::Delete => "delete",
        Operation::List => "list",
        _ => "other",
    }
}

fn cell(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace('|', "\\|")
}

fn path_section<S>(out: &mut String, p: &Path<S>) {
    let _ = writeln!(out, "\n### `{}`\n", p.pattern.as_str());
    let _ = writeln!(out, "{}\n", p.help_synopsis.trim());
    for o in &p.operations {
        let _ = writeln!(out, "- **{}**: {}", op_name(&o.operation), o.summary.trim());
    }
    if p.strict_fields {
        let _ = writeln!(out, "- A field this path does not declare is a 400.");
    }
    if !p.fields.is_empty() {
        let _ = writeln!(
            out,
            "\n| Field | Type | Required | Default | Values | Description |\n|---|---|---|---|---|---|"
        );
        for f in &p.fields {
            let values = if !f.allowed.is_empty() {
                f.allowed.join(", ")
            } else if !f.allowed_ints.is_empty() {
                f.allowed_ints
                    .iter()
                    .map(i64::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            } else if let (Some(a), Some(b)) = (f.min, f.max) {
                format!("{a}–{b}")
            } else {
                String::new()
            };
            let default = f
                .default
                .as_ref()
                .map(|d| d.to_string())
                .unwrap_or_default();
            let where_ = if p.is_path_param(f.name) {
                " (path)"
            } else {
                ""
            };
            let _ = writeln!(
                out,
                "| `{}`{where_} | {} | {} | {} | {} | {} |",
                f.name,
                ty(f),
                if f.required { "yes" } else { "" },
                cell(&default),
                cell(&values),
                cell(f.description)
            );
        }
    }
    let desc = p.help_description.trim();
    if !desc.is_empty() {
        let _ = writeln!(out, "\n{desc}");
    }
}

/// The whole reference.
pub fn api_reference() -> String {
    let mut out = String::from(INTRO);
    for p in paths() {
        path_section(&mut out, &p);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/api.md")
    }

    #[test]
    fn the_checked_in_api_reference_is_current() {
        let generated = api_reference();
        if std::env::var_os("UPDATE_DOCS").is_some() {
            std::fs::write(file(), &generated).expect("write docs/api.md");
        }
        let current = std::fs::read_to_string(file()).unwrap_or_default();
        assert!(
            current == generated,
            "docs/api.md is stale: regenerate it with \
             `UPDATE_DOCS=1 cargo test -p vault-plugin-crypto docs::`"
        );
    }

    #[test]
    fn the_reference_covers_every_path_and_field() {
        let text = api_reference();
        for p in paths() {
            assert!(text.contains(&format!("### `{}`", p.pattern.as_str())));
            for f in &p.fields {
                assert!(
                    text.contains(&format!("| `{}`", f.name)),
                    "{} of {}",
                    f.name,
                    p.pattern.as_str()
                );
            }
        }
        // The policy issue's rules are all documented.
        for rule in [
            "token_limits",
            "allowed_contracts",
            "allow_arbitrary_calldata",
            "allow_unlimited_approvals",
            "allowed_typed_data",
            "allow_arbitrary_typed_data",
            "allow_message_signing",
            "allowed_sighash_types",
            "max_fee_rate",
            "allowed_programs",
            "max_priority_fee",
        ] {
            assert!(text.contains(&format!("| `{rule}`")), "{rule}");
        }
    }
}
