# vault-plugin-crypto — developer entry points. `make help` lists them.
SHELL := /usr/bin/env bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

CARGO ?= cargo

.PHONY: help dev test tools lint fmt fmtcheck clippy shellcheck build unit integration ha-test release bench clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | sort

dev: ## build, start a dev server with the plugin mounted at crypto/ (foreground; Ctrl-C stops)
	scripts/dev.sh

tools: ## install what tests need and a fresh machine lacks (OpenBao into .tools/, shellcheck)
	scripts/install-bao.sh >/dev/null
	@command -v shellcheck >/dev/null || { command -v apt-get >/dev/null && (apt-get update -qq && apt-get install -y -qq shellcheck >/dev/null); }
	@command -v shellcheck >/dev/null || { echo "shellcheck is required (apt-get install shellcheck)" >&2; exit 1; }

build: ## build the plugin (debug) for the tests
	$(CARGO) build --locked -p vault-plugin-crypto

fmtcheck:
	$(CARGO) fmt --all -- --check

fmt: ## format the code
	$(CARGO) fmt --all

clippy:
	$(CARGO) clippy --locked --workspace --all-targets -- -D warnings

shellcheck:
	shellcheck -x scripts/*.sh .ci/run

lint: fmtcheck clippy shellcheck ## fmt --check, clippy -D warnings, shellcheck

unit: build ## unit, vector and in-process tests, and the real-server tests (dev mode)
	$(CARGO) test --locked --workspace

ha-test: build ## the 3-node HA scenarios (native mode, loopback, TLS)
	scripts/test-ha.sh

test: tools lint unit ## everything CI runs: lint and every test tier

clean:
	$(CARGO) clean
	rm -rf .dev dist
