//! Logging in the JSON line format go-plugin parses from a plugin's stderr
//! (hclog): `{"@level":..,"@message":..,"@module":..,"@timestamp":..}`.
//!
//! The host only accepts `@timestamp` with exactly six fractional digits
//! (`2006-01-02T15:04:05.000000Z07:00`); any other precision makes it log
//! the whole line verbatim at DEBUG (protocol.md §1.4).
//!
//! Invariant: callers never pass secret material to a log macro. Nothing in
//! this module can redact; it only formats.

use std::io::Write;
use std::sync::OnceLock;

use log::{Level, LevelFilter, Log, Metadata, Record};
use serde_json::{Map, Value};
use time::OffsetDateTime;
use time::macros::format_description;

const MODULE: &str = "vault-plugin-crypto";

struct HcLogger;

static LOGGER: HcLogger = HcLogger;
static INSTALLED: OnceLock<()> = OnceLock::new();

/// Installs the logger once; later calls only change the level.
pub fn init(level: LevelFilter) {
    INSTALLED.get_or_init(|| {
        // Only fails if another logger is installed, in which case we keep it.
        let _ = log::set_logger(&LOGGER);
    });
    log::set_max_level(level);
}

/// Parses a hclog level name (`trace|debug|info|warn|error|off`), case-insensitively.
pub fn parse_level(s: &str) -> Option<LevelFilter> {
    match s.trim().to_ascii_lowercase().as_str() {
        "trace" => Some(LevelFilter::Trace),
        "debug" => Some(LevelFilter::Debug),
        "info" => Some(LevelFilter::Info),
        "warn" | "warning" => Some(LevelFilter::Warn),
        "error" => Some(LevelFilter::Error),
        "off" => Some(LevelFilter::Off),
        _ => None,
    }
}

/// The level from the environment: `PLUGIN_LOG_LEVEL`, else the host's own
/// `BAO_LOG_LEVEL`/`VAULT_LOG_LEVEL` (inherited from the server), else info.
pub fn level_from_env() -> LevelFilter {
    ["PLUGIN_LOG_LEVEL", "BAO_LOG_LEVEL", "VAULT_LOG_LEVEL"]
        .iter()
        .find_map(|k| std::env::var(k).ok().and_then(|v| parse_level(&v)))
        .unwrap_or(LevelFilter::Info)
}

/// The timestamp in the one layout the host parses.
pub fn timestamp(now: OffsetDateTime) -> String {
    let fmt =
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");
    now.to_offset(time::UtcOffset::UTC)
        .format(&fmt)
        .unwrap_or_else(|_| String::from("1970-01-01T00:00:00.000000Z"))
}

fn level_name(level: Level) -> &'static str {
    match level {
        Level::Error => "error",
        Level::Warn => "warn",
        Level::Info => "info",
        Level::Debug => "debug",
        Level::Trace => "trace",
    }
}

/// Formats one record as a JSON line (without the newline).
pub fn format_record(record: &Record<'_>, now: OffsetDateTime) -> String {
    let mut obj = Map::new();
    obj.insert("@level".into(), level_name(record.level()).into());
    obj.insert("@message".into(), record.args().to_string().into());
    obj.insert("@module".into(), MODULE.into());
    obj.insert("@timestamp".into(), timestamp(now).into());
    struct Collect<'a>(&'a mut Map<String, Value>);
    impl<'kvs> log::kv::VisitSource<'kvs> for Collect<'_> {
        fn visit_pair(
            &mut self,
            key: log::kv::Key<'kvs>,
            value: log::kv::Value<'kvs>,
        ) -> Result<(), log::kv::Error> {
            self.0
                .insert(key.to_string(), Value::String(value.to_string()));
            Ok(())
        }
    }
    let _ = record.key_values().visit(&mut Collect(&mut obj));
    Value::Object(obj).to_string()
}

impl Log for HcLogger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        // Dependencies (h2, rustls, tonic) log through `log` too; keep them
        // at debug and below so an info log shows only our own events.
        let ours = record.target().starts_with("vault_plugin_crypto");
        if !ours && record.level() > Level::Warn && log::max_level() < LevelFilter::Debug {
            return;
        }
        let line = format_record(record, OffsetDateTime::now_utc());
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "{line}");
    }

    fn flush(&self) {
        let _ = std::io::stderr().flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamp_has_exactly_six_fractional_digits() {
        // The nanosecond clock of one capture in protocol-evidence (run-1795345981523064526).
        let t = OffsetDateTime::from_unix_timestamp_nanos(1_795_345_981_523_064_526)
            .expect("valid time");
        let s = timestamp(t);
        assert_eq!(s, "2026-11-22T11:13:01.523064Z");
        let frac = s.split('.').nth(1).expect("fraction");
        assert_eq!(frac.len(), "523064Z".len());
    }

    #[test]
    fn a_record_becomes_one_hclog_json_object() {
        let line = format_record(
            &Record::builder()
                .args(format_args!("rpc {}", "Setup"))
                .level(Level::Info)
                .target("vault_plugin_crypto::bridge")
                .build(),
            OffsetDateTime::UNIX_EPOCH,
        );
        let v: Value = serde_json::from_str(&line).expect("json");
        assert_eq!(v["@level"], "info");
        assert_eq!(v["@message"], "rpc Setup");
        assert_eq!(v["@module"], MODULE);
        assert_eq!(v["@timestamp"], "1970-01-01T00:00:00.000000Z");
        assert!(!line.contains('\n'));
    }

    #[test]
    fn level_names_parse_like_hclog() {
        assert_eq!(parse_level("WARN"), Some(LevelFilter::Warn));
        assert_eq!(parse_level("trace"), Some(LevelFilter::Trace));
        assert_eq!(parse_level("loud"), None);
    }
}
