# vault-plugin-crypto — developer entry points. `make help` lists them.
SHELL := /usr/bin/env bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

CARGO ?= cargo

.PHONY: help dev test tools lint fmt fmtcheck clippy clippy-fuzz shellcheck build unit integration ha-plugins ha-test ha-docker-test image compat compat-oldest k8s-validate fuzz fuzz-ci release release-repro release-test release-tools bench bench-e2e bench-callgrind clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | sort

dev: ## build, start a dev server with the plugin mounted at crypto/ (foreground; Ctrl-C stops)
	scripts/dev.sh

tools: ## install what tests need and a fresh machine lacks (OpenBao and cargo-fuzz into .tools/, shellcheck)
	scripts/install-bao.sh >/dev/null
	scripts/install-fuzz.sh >/dev/null
	@missing=""; for c in shellcheck jq curl openssl wrk; do command -v $$c >/dev/null || missing="$$missing $$c"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing" >&2; \
	  command -v apt-get >/dev/null || { echo "need:$$missing (no apt-get here)" >&2; exit 1; }; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi
	@# the node image (make image) needs a static busybox; the docker scenarios need the engine (not installed here)
	@if ! file -L /bin/busybox 2>/dev/null | grep -q 'statically linked'; then \
	  echo "installing: busybox-static" >&2; \
	  command -v apt-get >/dev/null || { echo "need: busybox-static (no apt-get here)" >&2; exit 1; }; \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq busybox-static >/dev/null; \
	fi

build: ## build the plugin (debug) for the tests
	$(CARGO) build --locked -p vault-plugin-crypto

fmtcheck:
	$(CARGO) fmt --all -- --check
	cd plugin/fuzz && $(CARGO) fmt -- --check

fmt: ## format the code (the workspace and the fuzz crate)
	$(CARGO) fmt --all
	cd plugin/fuzz && $(CARGO) fmt

clippy:
	$(CARGO) clippy --locked --workspace --all-targets --all-features -- -D warnings

clippy-fuzz: ## clippy -D warnings on the fuzz crate (plugin/fuzz, outside the workspace)
	cd plugin/fuzz && $(CARGO) clippy --locked --all-targets -- -D warnings

shellcheck:
	shellcheck -x scripts/*.sh .ci/run

lint: fmtcheck clippy shellcheck ## fmt --check, clippy -D warnings, shellcheck

unit: build ## unit, vector and in-process tests, and the real-server tests (dev mode)
	$(CARGO) test --locked --workspace
	$(CARGO) test --locked -p vault-crypto-sdk --features alloy

HA_DIR := target/ha
# Where cargo puts its builds (CARGO_TARGET_DIR when set).
TARGET_DIR := $(or $(CARGO_TARGET_DIR),target)

# Two plugin builds reporting different versions, for the upgrade scenarios (native and docker).
ha-plugins:
	mkdir -p $(HA_DIR)
	CRYPTO_PLUGIN_VERSION=v0.1.1 $(CARGO) build --locked -p vault-plugin-crypto
	cp $(TARGET_DIR)/debug/vault-plugin-crypto $(HA_DIR)/vault-plugin-crypto-v0.1.1
	$(CARGO) build --locked -p vault-plugin-crypto
	cp $(TARGET_DIR)/debug/vault-plugin-crypto $(HA_DIR)/vault-plugin-crypto-v0.1.0

ha-test: ha-plugins ## the 3-node HA scenarios (native mode, loopback, TLS): two plugin versions for the upgrade, fail-over under load
	$(CARGO) build --locked -p integration-tests --bin ha-load
	$(CARGO) build --locked -p vault-crypto-sdk --bin vault-crypto-register
	PLUGIN_BIN=$(HA_DIR)/vault-plugin-crypto-v0.1.0 PLUGIN_VERSION=v0.1.0 \
	PLUGIN_BIN2=$(HA_DIR)/vault-plugin-crypto-v0.1.1 PLUGIN_VERSION2=v0.1.1 \
	HA_LOAD_BIN=$(TARGET_DIR)/debug/ha-load REGISTER_BIN=$(TARGET_DIR)/debug/vault-crypto-register \
	scripts/test-ha.sh

image: ## the OpenBao node image, built offline (FROM scratch: static bao, busybox, CA certs, glibc runtime for test plugin builds)
	PLUGIN_BIN=$(wildcard $(TARGET_DIR)/debug/vault-plugin-crypto) scripts/build-image.sh

ha-docker-test: ha-plugins ## the 3-node Docker Compose scenarios: offline image, own network, partition, fail-over table (fails loudly without Docker)
	PLUGIN_BIN=$(HA_DIR)/vault-plugin-crypto-v0.1.0 PLUGIN_VERSION=v0.1.0 \
	PLUGIN_BIN2=$(HA_DIR)/vault-plugin-crypto-v0.1.1 PLUGIN_VERSION2=v0.1.1 \
	scripts/test-ha-docker.sh

# The OpenBao releases we claim: the real-server runtime and engine tests against each.
COMPAT_VERSIONS ?= 2.6.1 2.6.2 2.7.0 2.7.1 2.7.2
compat: ## runtime + engine tests against every OpenBao release we claim (COMPAT_VERSIONS), each from .tools/openbao-<v>
	$(CARGO) build --locked -p vault-plugin-crypto
	for v in $(COMPAT_VERSIONS); do \
	  bin="$$(scripts/install-bao.sh "$$v")"; \
	  echo "=== OpenBao $$v ($$bin)" >&2; \
	  VAULT_BIN="$$bin" CRYPTO_PLUGIN_BIN=$(abspath $(TARGET_DIR))/debug/vault-plugin-crypto \
	    $(CARGO) test --locked -p integration-tests --test runtime --test 'engine_*' || exit 1; \
	done

# Kubernetes manifests of DEPLOY_HA.md (not run here: no cluster), validated offline.
K8S_VALIDATE := .tools/kubernetes-validate
K8S_VERSION ?= 1.30.0
k8s-validate: ## deploy/k8s manifests against the Kubernetes $(K8S_VERSION) schemas, offline (--strict); a broken copy must be rejected
	[ -d $(K8S_VALIDATE)/kubernetes_validate ] || python3 -m pip install --quiet --disable-pip-version-check --no-input \
	  --target $(K8S_VALIDATE) 'kubernetes-validate==1.37.0'
	PYTHONPATH=$(K8S_VALIDATE) python3 -m kubernetes_validate --strict --quiet -k $(K8S_VERSION) deploy/k8s/*.yaml
	tmp="$$(mktemp --suffix=.yaml)"; trap 'rm -f "$$tmp"' EXIT; \
	sed 's/containerPort: 8200/containerPort: "eighty-two-hundred"/' deploy/k8s/openbao-crypto.yaml >"$$tmp"; \
	if PYTHONPATH=$(K8S_VALIDATE) python3 -m kubernetes_validate --strict --quiet -k $(K8S_VERSION) "$$tmp" >/dev/null 2>&1; then \
	  echo "k8s-validate: the validator accepted a broken manifest (it checks nothing)" >&2; exit 1; fi

compat-oldest: ## runtime + engine tests against the oldest OpenBao we claim (2.6.1); make test runs it after unit
	$(MAKE) compat COMPAT_VERSIONS=2.6.1

FUZZ_SECONDS ?= 60
FUZZ_CI_SECONDS ?= 15
fuzz: ## run each fuzz target FUZZ_SECONDS (default 60): executions, exec/s, corpus, crashes
	scripts/fuzz.sh --seconds $(FUZZ_SECONDS)

fuzz-ci: ## each fuzz target FUZZ_CI_SECONDS (default 15) from the seed corpus; fails on any crash
	scripts/fuzz.sh --ci --seconds $(FUZZ_CI_SECONDS)

test: tools lint k8s-validate unit compat-oldest fuzz-ci ha-test ha-docker-test ## everything CI runs: lint and every test tier

release: ## linux/amd64 artifacts (glibc + static musl) and dist/SHA256SUMS; refuses a v* tag != Cargo.toml version
	scripts/release.sh --target all

release-repro: ## release, plus a second clean build of each target in another target dir, compared byte for byte
	scripts/release.sh --target all --check-repro

release-test: ## build the static musl artifact, check it, register it by SHA256SUMS on a real bao and sign with it (~16 min build)
	scripts/release-test.sh

release-tools: ## what the static musl build needs when no rustup musl std is installed
	apt-get install -y -qq musl-tools rustc-web cargo-web rust-web-src

bench: ## benchmarks (figures printed, never asserted): criterion in-process, then bench-e2e
	$(CARGO) bench --locked -p wallet-core --bench core -- --noplot $(CRITERION_ARGS)
	$(MAKE) bench-e2e

# The driver is built with the dev profile (wrk makes the load; the driver only
# sets up and reads /proc), the plugin in release.
bench-e2e: ## end to end with wrk vs transit on a real bao, release plugin (needs `make tools` for wrk)
	scripts/install-bao.sh >/dev/null
	@command -v wrk >/dev/null || { echo "wrk is missing: run make tools" >&2; exit 1; }
	$(CARGO) build --locked --release -p vault-plugin-crypto
	CRYPTO_PLUGIN_BIN=$(TARGET_DIR)/release/vault-plugin-crypto \
	$(CARGO) bench --locked --profile dev -p integration-tests --bench e2e

# The plugin's instructions per request (valgrind's callgrind): repeatable under load, unlike CPU time.
bench-callgrind: ## the plugin's instructions per request at the floor and signing (release plugin under callgrind)
	scripts/install-bao.sh >/dev/null
	$(CARGO) build --locked --release -p vault-plugin-crypto
	CRYPTO_PLUGIN_BIN=$(TARGET_DIR)/release/vault-plugin-crypto BENCH_CALLGRIND_DIR=$(TARGET_DIR)/callgrind \
	BENCH_ONLY=$${BENCH_ONLY:-floor,solana/sign-message,ethereum/sign-message} BENCH_CONCURRENCY=$${BENCH_CONCURRENCY:-8} \
	BENCH_WALLETS=$${BENCH_WALLETS:-0} BENCH_ROUNDS=1 BENCH_SECONDS=$${BENCH_SECONDS:-10} \
	$(CARGO) bench --locked --profile dev -p integration-tests --bench e2e

clean:
	$(CARGO) clean
	rm -rf .dev dist
