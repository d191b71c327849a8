//! `vault-plugin-crypto`: started by Vault/OpenBao, never by hand.

fn main() -> std::process::ExitCode {
    vault_plugin_crypto::serve::run()
}
