# vault-transit-seal.hcl — the transit seal stanza of a node of the transit-sealed cluster.
# Template: `setup-ha.sh start` renders it with the unsealer token into <node dir>/secrets/seal.hcl
# (0600) and passes it as a second -config file; never put it in config/ or in the environment.
seal "transit" {
  address         = "@@TRANSIT_ADDR@@"
  token           = "@@TRANSIT_TOKEN@@"
  mount_path      = "@@TRANSIT_MOUNT@@/"
  key_name        = "@@TRANSIT_KEY_NAME@@"
  tls_ca_cert     = "@@SRV_DIR@@/tls/@@TRANSIT_CA_FILE@@"
  # The server renews the token: use a periodic one (setup-ha.sh transit-unsealer-setup).
  disable_renewal = "false"
}
