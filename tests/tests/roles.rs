//! The ACL roles shipped in `docs/acl/` (signer, approver, policy admin,
//! provisioner, custodian), each given to a real token on a real server: every role can
//! do exactly its job. The policy text is read from the files operators
//! copy, so the documentation and this test cannot drift apart.

use integration_tests::{DevServer, Reply, workspace_root};
use serde_json::{Value, json};

const ABANDON: &str = "abandon abandon abandon abandon abandon abandon abandon abandon \
                       abandon abandon abandon about";

fn acl(name: &str) -> String {
    let path = workspace_root()
        .join("docs/acl")
        .join(format!("{name}.hcl"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A token holding only `policy` (no default policy either).
fn token(s: &DevServer, policy: &str) -> String {
    s.write(
        &format!("sys/policies/acl/{policy}"),
        json!({"policy": acl(policy)}),
    )
    .expect_status(204);
    let r = s.write(
        "auth/token/create",
        json!({"policies": [policy], "no_default_policy": true, "ttl": "10m"}),
    );
    r.expect_status(200);
    r.body["auth"]["client_token"]
        .as_str()
        .expect("client_token")
        .to_string()
}

struct As<'a> {
    s: &'a DevServer,
    token: String,
    role: &'static str,
}

impl As<'_> {
    fn req(&self, method: &str, path: &str, body: Option<Value>) -> Reply {
        self.s
            .request_as(&self.token, method, &format!("crypto/{path}"), body)
    }
    fn ok(&self, method: &str, path: &str, body: Option<Value>) -> Reply {
        let r = self.req(method, path, body);
        assert!(
            r.status == 200 || r.status == 204,
            "{}: {method} {path} should succeed, got {} {}",
            self.role,
            r.status,
            r.body
        );
        r
    }
    fn denied(&self, method: &str, path: &str, body: Option<Value>) {
        let r = self.req(method, path, body);
        assert_eq!(
            r.status, 403,
            "{}: {method} {path} should be refused, got {} {}",
            self.role, r.status, r.body
        );
    }
}

fn eth_tx() -> Value {
    json!({"chain_id": 1, "nonce": 0, "gas_limit": 21000, "gas_price": 1,
           "to": "0xde0B295669a9FD93d5F28D9Ec85E40f4cb697BAe", "value": "1"})
}

#[test]
fn every_shipped_role_can_do_exactly_its_job() {
    let s = DevServer::with_plugin();
    // The root token sets up: two wallets for apps, one exportable.
    s.write("crypto/wallets/app1", json!({"mnemonic": ABANDON}))
        .expect_status(200);
    s.write("crypto/wallets/app2", json!({})).expect_status(200);
    s.write("crypto/wallets/vault-ex", json!({"exportable": true}))
        .expect_status(200);
    s.write(
        "crypto/policies/app1/ethereum",
        json!({"max_value_per_tx": "1000"}),
    )
    .expect_status(200);

    // Signer.
    let signer = As {
        s: &s,
        token: token(&s, "signer"),
        role: "signer",
    };
    signer.ok(
        "POST",
        "wallets/app1/ethereum/sign-message",
        Some(json!({"message": "hi"})),
    );
    signer.ok(
        "POST",
        "wallets/app1/ethereum/sign-transaction",
        Some(eth_tx()),
    );
    signer.ok("GET", "wallets/app1/addresses/ethereum", None);
    // Its own policy still governs it.
    let over = signer.req(
        "POST",
        "wallets/app1/ethereum/sign-transaction",
        Some(
            json!({"chain_id": 1, "nonce": 0, "gas_limit": 21000, "gas_price": 1,
                    "to": "0xde0B295669a9FD93d5F28D9Ec85E40f4cb697BAe", "value": "1001"}),
        ),
    );
    assert_eq!(over.status, 403, "{}", over.body);
    assert!(over.errors().contains("max_value_per_tx"), "{}", over.body);
    signer.denied(
        "POST",
        "wallets/app2/ethereum/sign-message",
        Some(json!({"message": "hi"})),
    );
    signer.denied("GET", "policies/app1/ethereum", None);
    signer.denied(
        "POST",
        "policies/app1/ethereum",
        Some(json!({"max_value_per_tx": ""})),
    );
    signer.denied("DELETE", "policies/app1/ethereum", None);
    signer.denied(
        "POST",
        "policies/app1/ethereum/check",
        Some(json!({"operation": "sign-message", "message": "x"})),
    );
    signer.denied(
        "POST",
        "wallets/app1",
        Some(json!({"allow_raw_signing": true})),
    );
    signer.denied("GET", "wallets/app1", None);
    signer.denied("DELETE", "wallets/app1", None);
    signer.denied("GET", "export/app1", None);
    signer.denied("LIST", "wallets/", None);
    // Approvals: it follows its own requests but never approves or lists.
    let some_id = "0123456789abcdef0123456789abcdef";
    let r = signer.req("GET", &format!("approvals/{some_id}"), None);
    assert_eq!(r.status, 404, "signer reads approvals: {}", r.body);
    signer.denied("POST", &format!("approvals/{some_id}/approve"), None);
    signer.denied("POST", &format!("approvals/{some_id}/reject"), None);
    signer.denied("LIST", "approvals/", None);
    // Reaches the engine, which refuses a token without an entity.
    let r = signer.req("POST", &format!("approvals/{some_id}/sign"), None);
    assert_eq!(r.status, 404, "signer reaches sign: {}", r.body);

    // Approver: the approval paths only.
    let approver = As {
        s: &s,
        token: token(&s, "approver"),
        role: "approver",
    };
    let r = approver.req("POST", &format!("approvals/{some_id}/approve"), None);
    assert_eq!(r.status, 404, "approver reaches approve: {}", r.body);
    let r = approver.req("POST", &format!("approvals/{some_id}/reject"), None);
    assert_eq!(r.status, 404, "approver reaches reject: {}", r.body);
    approver.denied("POST", &format!("approvals/{some_id}/sign"), None);
    approver.denied(
        "POST",
        "wallets/app1/ethereum/sign-message",
        Some(json!({"message": "hi"})),
    );
    approver.denied("GET", "policies/app1/ethereum", None);
    approver.denied("LIST", "wallets/", None);
    signer.denied(
        "POST",
        "sign-hash/app1",
        Some(json!({"chain": "ethereum", "hash": format!("0x{}", "11".repeat(32))})),
    );

    // Policy admin.
    let admin = As {
        s: &s,
        token: token(&s, "policy-admin"),
        role: "policy-admin",
    };
    admin.ok(
        "POST",
        "policies/app2/ethereum",
        Some(json!({"allowed_chain_ids": ["1"], "max_value_per_day": "5"})),
    );
    admin.ok(
        "POST",
        "policies/app2/ethereum",
        Some(json!({"max_value_per_day": "6"})),
    );
    let read = admin.ok("GET", "policies/app2/ethereum", None);
    assert_eq!(read.data()["max_value_per_day"], json!("6"));
    let check = admin.ok(
        "POST",
        "policies/app2/ethereum/check",
        Some({
            let mut b = eth_tx();
            b["operation"] = json!("sign-transaction");
            b["value"] = json!("7");
            b
        }),
    );
    assert_eq!(check.data()["allowed"], json!(false), "{}", check.body);
    assert_eq!(check.data()["rule"], json!("max_value_per_day"));
    admin.ok("DELETE", "policies/app2/ethereum", None);
    admin.ok("LIST", "wallets/", None);
    admin.ok(
        "POST",
        "wallets/app2",
        Some(json!({"deletion_allowed": true})),
    );
    admin.denied(
        "POST",
        "wallets/app1/ethereum/sign-message",
        Some(json!({"message": "hi"})),
    );
    admin.denied("GET", "export/vault-ex", None);
    admin.denied("POST", "wallets/new-by-admin", Some(json!({})));
    admin.denied(
        "POST",
        "sign-hash/app1",
        Some(json!({"chain": "ethereum", "hash": format!("0x{}", "11".repeat(32))})),
    );

    // Provisioner.
    let prov = As {
        s: &s,
        token: token(&s, "provisioner"),
        role: "provisioner",
    };
    let created = prov.ok("POST", "wallets/prov-new", Some(json!({"words": 12})));
    assert_eq!(created.data()["exportable"], json!(false));
    prov.ok("GET", "wallets/prov-new/addresses/ethereum", None);
    prov.ok("LIST", "wallets/", None);
    // No flags at creation.
    prov.denied("POST", "wallets/prov-x", Some(json!({"exportable": true})));
    prov.denied(
        "POST",
        "wallets/prov-y",
        Some(json!({"allow_raw_signing": true})),
    );
    prov.denied(
        "POST",
        "wallets/prov-z",
        Some(json!({"deletion_allowed": true})),
    );
    // No write to an existing name: the host sees an update.
    prov.denied("POST", "wallets/app1", Some(json!({"mnemonic": ABANDON})));
    prov.denied("POST", "wallets/prov-new", Some(json!({})));
    // Not a signer, not an exporter, not a policy admin.
    prov.denied(
        "POST",
        "wallets/prov-new/ethereum/sign-message",
        Some(json!({"message": "hi"})),
    );
    prov.denied("GET", "export/prov-new", None);
    prov.denied("POST", "policies/prov-new/ethereum", Some(json!({})));
    prov.denied("DELETE", "wallets/prov-new", None);
    // The wallet it made has the defaults it could not change.
    let facts = s.get("crypto/wallets/prov-new");
    assert_eq!(facts.data()["allow_raw_signing"], json!(false));
    assert_eq!(facts.data()["deletion_allowed"], json!(false));

    // Custodian.
    let cust = As {
        s: &s,
        token: token(&s, "custodian"),
        role: "custodian",
    };
    let exported = cust.ok("GET", "export/vault-ex", None);
    assert!(exported.data()["mnemonic"].as_str().is_some());
    // The plugin refuses a wallet that is not exportable.
    let r = cust.req("GET", "export/app1", None);
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r.errors().contains("not exportable"), "{}", r.body);
    cust.denied(
        "POST",
        "wallets/vault-ex/ethereum/sign-message",
        Some(json!({"message": "hi"})),
    );
    cust.denied("GET", "policies/app1/ethereum", None);
    cust.denied("POST", "wallets/cust-new", Some(json!({})));
}

#[test]
fn create_means_create_through_the_host() {
    let s = DevServer::with_plugin();
    // A token that may only create.
    s.write(
        "sys/policies/acl/create-only",
        json!({"policy": "path \"crypto/wallets/*\" { capabilities = [\"create\"] }"}),
    )
    .expect_status(204);
    let t = s.write(
        "auth/token/create",
        json!({"policies": ["create-only"], "no_default_policy": true}),
    );
    let t = t.body["auth"]["client_token"]
        .as_str()
        .expect("token")
        .to_string();
    // The squatter creates a name with a mnemonic of its choosing.
    let r = s.request_as(
        &t,
        "POST",
        "crypto/wallets/treasury",
        Some(json!({"mnemonic": ABANDON})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    // It cannot write the name again (the host maps it to update).
    let r = s.request_as(&t, "POST", "crypto/wallets/treasury", Some(json!({})));
    assert_eq!(r.status, 403, "{}", r.body);
    // The admin's later "create" is an update of an existing wallet: it can
    // never silently adopt the squatted keys with new key material, and it
    // says the wallet exists.
    let r = s.write("crypto/wallets/treasury", json!({"words": 24}));
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.errors().contains("already exists"), "{}", r.body);
    // Policies: a create-only grant cannot overwrite an existing policy.
    s.write(
        "sys/policies/acl/policy-create-only",
        json!({"policy": "path \"crypto/policies/*\" { capabilities = [\"create\"] }"}),
    )
    .expect_status(204);
    let p = s.write(
        "auth/token/create",
        json!({"policies": ["policy-create-only"], "no_default_policy": true}),
    );
    let p = p.body["auth"]["client_token"]
        .as_str()
        .expect("token")
        .to_string();
    let r = s.request_as(
        &p,
        "POST",
        "crypto/policies/treasury/ethereum",
        Some(json!({"max_value_per_tx": "1"})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let r = s.request_as(
        &p,
        "POST",
        "crypto/policies/treasury/ethereum",
        Some(json!({"max_value_per_tx": ""})),
    );
    assert_eq!(r.status, 403, "{}", r.body);
    let read = s.get("crypto/policies/treasury/ethereum");
    assert_eq!(read.data()["max_value_per_tx"], json!("1"));
}
