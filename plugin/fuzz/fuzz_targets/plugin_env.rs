//! The handshake environment the host gives the plugin (`serve/env.rs`):
//! magic cookie, offered protocol versions, the host's certificate PEM,
//! socket directory and group, multiplexing and the connect timeout.
//!
//! Input: `KEY=VALUE` entries separated by NUL bytes (the environment
//! cannot hold NUL, and PEM values hold newlines).
//!
//! Properties: no panic; an accepted environment has the right cookie,
//! offers version 5, and a connect timeout of 1 to 600 seconds; an empty
//! socket directory or group is treated as unset.

#![no_main]

use libfuzzer_sys::fuzz_target;
use vault_plugin_crypto::fuzzing::on_runtime_stack;
use vault_plugin_crypto::serve::{PluginEnv, env_cookie};

// On a thread with the runtime's 2 MiB stack: deep recursion overflows
// there, not only on libFuzzer's 8 MiB main thread.
fuzz_target!(|data: &[u8]| on_runtime_stack(|| run(data)));

fn run(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let vars: Vec<(String, String)> = text
        .split('\0')
        .filter_map(|e| e.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let Ok(env) = PluginEnv::from_vars(vars.clone()) else {
        return;
    };
    // The last value of a key wins, as in the process environment.
    let last = |key: &str| vars.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v);
    assert_eq!(
        last("VAULT_BACKEND_PLUGIN").map(String::as_str),
        Some(env_cookie())
    );
    let offered = last("PLUGIN_PROTOCOL_VERSIONS").expect("versions were offered");
    assert!(offered.split(',').any(|v| v.trim().parse() == Ok(5u32)));
    assert!((1..=600).contains(&env.connect_timeout.as_secs()));
    assert!(!env.host_cert.is_empty());
    assert!(
        env.socket_dir
            .as_ref()
            .is_none_or(|d| !d.as_os_str().is_empty())
    );
    assert!(env.socket_group.as_ref().is_none_or(|g| !g.is_empty()));
}
