# Provisioner: creates new wallets (generated, or imported from a mnemonic or
# key it holds) and reads their public facts and addresses. It cannot set
# flags (exportable, deletion_allowed, allow_raw_signing), cannot change an
# existing wallet (create means create: the host sends an update for an
# existing name, which this policy does not grant), cannot sign (signing
# paths have no existence check, so the host treats them as updates) and
# gets no secret out.
path "crypto/wallets/*" {
  capabilities = ["create", "read"]
  denied_parameters = {
    "exportable"        = []
    "deletion_allowed"  = []
    "allow_raw_signing" = []
  }
}
path "crypto/wallets/" {
  capabilities = ["list"]
}
