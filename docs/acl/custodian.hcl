# Custodian: exports the secret of wallets created exportable (the plugin
# refuses the others with 403). Nothing else.
path "crypto/export/*" {
  capabilities = ["read"]
}
