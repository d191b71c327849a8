# Approver: a person (an identity entity, e.g. a userpass or OIDC login) who
# approves or rejects signing requests that a wallet policy makes wait
# (approvals_required, approver_group). This grant lets the token reach the
# paths; the engine itself checks, at every call, that the token's entity is
# a member of the policy's approver_group and is not the requester, so this
# one role serves every wallet and group.
path "crypto/approvals/" {
  capabilities = ["list"]
}
path "crypto/approvals/+" {
  capabilities = ["read"]
}
path "crypto/approvals/+/approve" {
  capabilities = ["update"]
}
path "crypto/approvals/+/reject" {
  capabilities = ["update"]
}
