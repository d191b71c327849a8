//! Harness for tests against a real `bao`/`vault` server.
