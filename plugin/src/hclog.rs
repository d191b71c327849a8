//! Logging in the JSON line format go-plugin parses from a plugin's stderr
//! (hclog): `{"@level":..,"@message":..,"@module":..,"@timestamp":..}`.
//!
//! The host only accepts `@timestamp` with exactly six fractional digits
//! (`2006-01-02T15:04:05.000000Z07:00`); any other precision makes it log
//! the whole line verbatim at DEBUG (protocol.md §1.4).
//!
//! Invariant: callers never pass secret material to a log macro. Nothing in
//! this module can redact; it only formats.
//!
//! Levels: the process has one (from the environment), and each mount may
//! have its own (the mount option `log_level`, given to the plugin in
//! `Setup`). One process serves every mount, so a mount's level is not
//! global: the bridge runs each RPC of a mount inside [`scope`], and a
//! record is written when its level is within the level of the mount whose
//! work logs it (the process level outside any mount's work). `log`'s
//! global maximum is the loosest of all of them, so that no mount's record
//! is filtered out before the logger sees it.

use std::collections::HashMap;
use std::future::Future;
use std::io::Write;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use parking_lot::Mutex;

use log::{Level, LevelFilter, Log, Metadata, Record};
use serde_json::{Map, Value};
use time::OffsetDateTime;
use time::macros::format_description;

const MODULE: &str = "vault-plugin-crypto";

struct HcLogger;

static LOGGER: HcLogger = HcLogger;
static INSTALLED: OnceLock<()> = OnceLock::new();
/// The process level, as `LevelFilter as usize`.
static PROCESS_LEVEL: AtomicUsize = AtomicUsize::new(LevelFilter::Info as usize);
/// The level of each mount that set one, by multiplex id.
static MOUNT_LEVELS: Mutex<Option<HashMap<String, LevelFilter>>> = Mutex::new(None);

tokio::task_local! {
    /// The level of the mount whose work the current task does.
    static MOUNT_LEVEL: LevelFilter;
}

const LEVELS: [LevelFilter; 6] = [
    LevelFilter::Off,
    LevelFilter::Error,
    LevelFilter::Warn,
    LevelFilter::Info,
    LevelFilter::Debug,
    LevelFilter::Trace,
];

fn level_from_usize(n: usize) -> LevelFilter {
    LEVELS.get(n).copied().unwrap_or(LevelFilter::Info)
}

/// Installs the logger once and sets the process level.
pub fn init(level: LevelFilter) {
    INSTALLED.get_or_init(|| {
        // Only fails if another logger is installed, in which case we keep it.
        let _ = log::set_logger(&LOGGER);
    });
    PROCESS_LEVEL.store(level as usize, Ordering::Relaxed);
    update_max_level();
}

/// The process level (outside any mount's work, and for mounts without a
/// `log_level` of their own).
pub fn process_level() -> LevelFilter {
    level_from_usize(PROCESS_LEVEL.load(Ordering::Relaxed))
}

/// Sets (`Some`) or clears (`None`) the level of one mount, by its
/// multiplex id, and returns the level its work logs at.
pub fn set_mount_level(mount: &str, level: Option<LevelFilter>) -> LevelFilter {
    {
        let mut levels = MOUNT_LEVELS.lock();
        let map = levels.get_or_insert_with(HashMap::new);
        match level {
            Some(l) => {
                map.insert(mount.to_string(), l);
            }
            None => {
                map.remove(mount);
            }
        }
    }
    update_max_level();
    level.unwrap_or_else(process_level)
}

/// `log`'s global maximum: the loosest of the process and mount levels.
fn update_max_level() {
    let mounts = MOUNT_LEVELS
        .lock()
        .as_ref()
        .and_then(|m| m.values().copied().max())
        .unwrap_or(LevelFilter::Off);
    log::set_max_level(process_level().max(mounts));
}

/// Runs `fut` as work of a mount that logs at `level`.
pub fn scope<F: Future>(level: LevelFilter, fut: F) -> impl Future<Output = F::Output> {
    MOUNT_LEVEL.scope(level, fut)
}

/// The level of the work in progress: its mount's, else the process's.
pub fn current_level() -> LevelFilter {
    MOUNT_LEVEL
        .try_with(|l| *l)
        .unwrap_or_else(|_| process_level())
}

/// Whether a record at `level` from `target` is written now.
fn should_log(level: Level, target: &str) -> bool {
    let current = current_level();
    if level > current {
        return false;
    }
    // Dependencies (h2, rustls, tonic) log through `log` too; keep them
    // at debug and below so an info log shows only our own events.
    let ours = target.starts_with("vault_plugin_crypto");
    ours || level <= Level::Warn || current >= LevelFilter::Debug
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
        should_log(metadata.level(), metadata.target())
    }

    fn log(&self, record: &Record<'_>) {
        if !self.enabled(record.metadata()) {
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

    #[tokio::test]
    async fn a_mounts_level_applies_to_its_own_work_only() {
        // The process level stays at its default (info) in unit tests.
        let quiet = set_mount_level("quiet-mount", Some(LevelFilter::Error));
        let loud = set_mount_level("loud-mount", Some(LevelFilter::Trace));
        let plain = set_mount_level("plain-mount", None);
        assert_eq!(quiet, LevelFilter::Error);
        assert_eq!(plain, process_level());
        let ours = "vault_plugin_crypto::paths";
        let (q_info, q_error) = scope(quiet, async {
            (
                should_log(Level::Info, ours),
                should_log(Level::Error, ours),
            )
        })
        .await;
        assert!(!q_info && q_error, "the quiet mount logs errors only");
        let l_trace = scope(loud, async { should_log(Level::Trace, ours) }).await;
        assert!(l_trace, "the loud mount logs trace");
        let p_info = scope(plain, async {
            (
                should_log(Level::Info, ours),
                should_log(Level::Debug, ours),
            )
        })
        .await;
        assert_eq!(
            p_info,
            (true, false),
            "a mount without a level has the process's"
        );
        // Outside any mount: the process level, whatever the mounts set.
        assert!(should_log(Level::Info, ours) && !should_log(Level::Trace, ours));
        // The global maximum lets the loudest mount's records through.
        assert_eq!(log::max_level(), LevelFilter::Trace);
        set_mount_level("loud-mount", None);
        set_mount_level("quiet-mount", None);
        assert_eq!(log::max_level(), process_level());
        // Dependencies' chatter needs debug, even inside a loud scope.
        assert!(!should_log(Level::Info, "h2::codec"));
        assert!(
            scope(LevelFilter::Debug, async {
                should_log(Level::Info, "h2::codec")
            })
            .await
        );
    }

    #[test]
    fn level_names_parse_like_hclog() {
        assert_eq!(parse_level("WARN"), Some(LevelFilter::Warn));
        assert_eq!(parse_level("trace"), Some(LevelFilter::Trace));
        assert_eq!(parse_level("loud"), None);
    }
}
