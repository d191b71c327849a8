# Policy admin: writes and reads the signing policies of every wallet, asks
# them (policies/<name>/<chain>/check), lists wallets and changes their flags
# (deletion_allowed, allow_raw_signing; raw signing stays refused on a chain
# that has a policy). Cannot create wallets, sign or export.
path "crypto/policies/*" {
  capabilities = ["create", "read", "update", "delete"]
}
path "crypto/wallets/" {
  capabilities = ["list"]
}
path "crypto/wallets/+" {
  capabilities = ["read", "update", "delete"]
  denied_parameters = {
    "mnemonic"    = []
    "private_key" = []
    "passphrase"  = []
  }
}
