# vault-shamir-ha.hcl — one node of a 3-node raft cluster, sealed with Shamir unseal keys.
#
# This is a template: `setup-ha.sh prepare-config` fills every placeholder (a NAME between
# double at-signs) from the node's .env and writes the result to <node dir>/config/vault.hcl.
# Edit the template (or the .env), not the rendered file. Paths start with the node directory as
# the server sees it: the node directory itself in native mode, /vault inside the container in
# Docker mode.

cluster_name     = "@@CLUSTER_NAME@@"
# The address clients and the other nodes use for this node, and the raft/cluster address.
# Both must name this node only (its own IP or FQDN), never a load balancer.
api_addr         = "https://@@NODE_ADDR@@:@@API_PORT@@"
cluster_addr     = "https://@@NODE_ADDR@@:@@CLUSTER_PORT@@"
# Every node must hold the identical plugin binary here before the plugin is registered.
plugin_directory = "@@SRV_DIR@@/plugins"
log_level        = "@@LOG_LEVEL@@"
ui               = false
@@MLOCK_LINE@@

listener "tcp" {
  address            = "@@LISTEN_ADDR@@:@@API_PORT@@"
  cluster_address    = "@@LISTEN_ADDR@@:@@CLUSTER_PORT@@"
  tls_cert_file      = "@@SRV_DIR@@/tls/cert.pem"
  tls_key_file       = "@@SRV_DIR@@/tls/key.pem"
  tls_client_ca_file = "@@SRV_DIR@@/tls/ca.pem"
  tls_min_version    = "tls12"
}

storage "raft" {
  path    = "@@SRV_DIR@@/data"
  node_id = "@@NODE_ID@@"
  # 1 = fastest elections (recommended for production hardware); larger values tolerate
  # slower disks/networks at the cost of a slower fail-over.
  performance_multiplier = @@RAFT_PERFORMANCE_MULTIPLIER@@

  # One retry_join block per cluster node (this one included; it skips itself), over TLS,
  # verifying the leader's certificate against our CA.
@@RETRY_JOIN@@
}

# Audit to a file, declared here: OpenBao refuses to create audit devices through the API
# (unless unsafe_allow_api_audit_creation is set). The audit table is replicated, so this stanza
# must be IDENTICAL on every node, file_path included: a standby whose stanza differs fails its
# post-unseal setup ("modifications to audit devices are not allowed") and can never take over.
# The default path is relative to the server's working directory (the node directory; /vault in
# the container), so it is the same text everywhere and still names each node's own file.
# HashiCorp Vault ignores this stanza (with a warning); there setup-ha.sh enables the same device
# through the API once the active node is unsealed.
audit "file" "file" {
  description = "file audit log of every request and response (values HMAC'd)"
  options {
    file_path = "@@AUDIT_FILE_PATH@@"
    mode      = "0600"
  }
}
@@AUDIT_STDOUT@@
