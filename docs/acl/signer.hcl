# Signer: an application that signs with, and reads the addresses of, one
# wallet ("app1" here; one such block per wallet it may use). Everything it
# can reach under wallets/app1/ is signing (ethereum/*, bitcoin/*, solana/*)
# or public (addresses/*, xpub): the wallet's policy (policies/), its flags
# (wallets/app1 itself), its export (export/) and raw signing (sign-hash/)
# live elsewhere, so this one glob grants nothing else.
path "crypto/wallets/app1/*" {
  capabilities = ["read", "update"]
}

# A signing request that the wallet's policy makes wait for approvals:
# follow it and, once approved, collect its signature. The engine gives the
# signature only to the entity that made the request, so granting these on
# every id is safe.
path "crypto/approvals/+" {
  capabilities = ["read"]
}
path "crypto/approvals/+/sign" {
  capabilities = ["update"]
}
