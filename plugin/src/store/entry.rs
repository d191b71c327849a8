//! Versioned JSON entries.
//!
//! Every stored entry carries a `version` field. Reading an entry written
//! by an older plugin upgrades it in memory ([`Versioned::upgrade`]); the
//! upgraded form is written back by the next write under the entry's lock,
//! never during a read (a read may run on a standby whose storage is
//! read-only). An entry newer than this plugin is refused with a 500 rather
//! than misread.

use serde::Serialize;
use serde::de::DeserializeOwned;
use zeroize::Zeroizing;

use crate::logical::{LogicalError, StorageValue};

/// A storage entry type with a schema version.
pub trait Versioned: Serialize + DeserializeOwned {
    /// What the entry is, for error messages (`wallet`, `policy`).
    const KIND: &'static str;
    /// The version this plugin writes.
    const VERSION: u32;

    /// The version recorded in this value (must be [`Self::VERSION`] to be written).
    fn version(&self) -> u32;

    /// Decodes an entry of an older `version` (0 = no `version` field).
    /// The default knows no older versions.
    fn upgrade(version: u32, _bytes: &[u8]) -> Result<Self, LogicalError> {
        Err(LogicalError::Internal(format!(
            "stored {} entry has unsupported version {version}",
            Self::KIND
        )))
    }
}

/// A decoded entry, and the version it was stored with when it was upgraded.
#[derive(Debug)]
pub struct Decoded<T> {
    pub value: T,
    pub upgraded_from: Option<u32>,
}

#[derive(serde::Deserialize)]
struct VersionProbe {
    #[serde(default)]
    version: u32,
}

/// Serializes an entry. The buffer is sized up front so that it is not
/// reallocated while secrets are written into it (a reallocation would leave
/// a copy behind in freed memory), and it is zeroized on drop.
pub fn encode<T: Versioned>(value: &T) -> Result<StorageValue, LogicalError> {
    if value.version() != T::VERSION {
        return Err(LogicalError::Internal(format!(
            "refusing to write a {} entry of version {} (current is {})",
            T::KIND,
            value.version(),
            T::VERSION
        )));
    }
    let mut buf = Zeroizing::new(Vec::with_capacity(8192));
    serde_json::to_writer(&mut *buf, value)
        .map_err(|e| LogicalError::Internal(format!("cannot encode {} entry: {e}", T::KIND)))?;
    Ok(buf)
}

/// Decodes an entry, upgrading older versions. Decoding errors never quote
/// the stored bytes (they hold secrets).
pub fn decode<T: Versioned>(bytes: &[u8]) -> Result<Decoded<T>, LogicalError> {
    let corrupt = || LogicalError::Internal(format!("stored {} entry is corrupt", T::KIND));
    let probe: VersionProbe = serde_json::from_slice(bytes).map_err(|_| corrupt())?;
    match probe.version {
        v if v == T::VERSION => Ok(Decoded {
            value: serde_json::from_slice(bytes).map_err(|_| corrupt())?,
            upgraded_from: None,
        }),
        v if v > T::VERSION => Err(LogicalError::Internal(format!(
            "stored {} entry has version {v}, newer than this plugin supports ({}); \
             upgrade the plugin",
            T::KIND,
            T::VERSION
        ))),
        v => Ok(Decoded {
            value: T::upgrade(v, bytes)?,
            upgraded_from: Some(v),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    /// Version 2 renamed `amount` to `value`.
    #[derive(Debug, Serialize, Deserialize, PartialEq)]
    struct Thing {
        version: u32,
        value: u64,
    }

    #[derive(Deserialize)]
    struct ThingV1 {
        amount: u64,
    }

    impl Versioned for Thing {
        const KIND: &'static str = "thing";
        const VERSION: u32 = 2;
        fn version(&self) -> u32 {
            self.version
        }
        fn upgrade(version: u32, bytes: &[u8]) -> Result<Self, LogicalError> {
            match version {
                1 => {
                    let old: ThingV1 = serde_json::from_slice(bytes)
                        .map_err(|_| LogicalError::Internal("corrupt".into()))?;
                    Ok(Thing {
                        version: 2,
                        value: old.amount,
                    })
                }
                v => Err(LogicalError::Internal(format!("unsupported version {v}"))),
            }
        }
    }

    #[test]
    fn entries_round_trip_with_their_version() {
        let bytes = encode(&Thing {
            version: 2,
            value: 7,
        })
        .expect("encode");
        assert!(
            std::str::from_utf8(&bytes)
                .expect("utf8")
                .contains("\"version\":2")
        );
        let d = decode::<Thing>(&bytes).expect("decode");
        assert_eq!(d.value.value, 7);
        assert_eq!(d.upgraded_from, None);
    }

    #[test]
    fn older_entries_are_upgraded_on_read() {
        let d = decode::<Thing>(br#"{"version":1,"amount":5}"#).expect("decode");
        assert_eq!(
            d.value,
            Thing {
                version: 2,
                value: 5
            }
        );
        assert_eq!(d.upgraded_from, Some(1));
    }

    #[test]
    fn newer_or_unknown_or_corrupt_entries_are_refused() {
        let newer = decode::<Thing>(br#"{"version":3,"value":5}"#).expect_err("newer");
        assert!(newer.to_string().contains("newer than this plugin"));
        assert!(decode::<Thing>(br#"{"value":5}"#).is_err());
        let corrupt = decode::<Thing>(b"{not json").expect_err("corrupt");
        assert!(corrupt.to_string().contains("corrupt"));
        assert!(
            encode(&Thing {
                version: 1,
                value: 0
            })
            .is_err()
        );
    }
}
