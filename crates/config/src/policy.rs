//! The build's policy: what the firmware enforces whatever a script says, as one typed
//! value. This module owns the names and values that carry it in the configuration's
//! setting records; `bootsign build` writes a [`Policy`], the firmware and `inspect` read
//! one back with [`Config::policy`](crate::Config::policy).
//!
//! | name                | values            | default | meaning |
//! |---------------------|-------------------|---------|---------|
//! | `require-signed`    | `program`, `all`  | absent  | `imgtrust --permanent` from the start; `all` adds `--all` (initrds and modules too) |
//! | `tls-min`           | `1.0` … `1.3`     | `1.2`   | the oldest TLS version HTTPS accepts |
//! | `autodhcp`          | `on`, `off`       | `on`    | configure the network by DHCP before the script runs |
//! | `crl-require-fresh` | `on`, `off`       | `off`   | a CRL past its nextUpdate refuses everything its issuer signed |
//!
//! Decoding fails closed: an unknown name, an unknown value or a name given twice is an
//! error naming it, never ignored, so a misspelt setting cannot quietly weaken trust.
//! Encoding writes the values that differ from the defaults, sorted by name, so each
//! policy has one encoding.

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

/// Which images must carry a verified signature before they run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RequireSigned {
    /// No requirement from the build; a script may still run `imgtrust`.
    #[default]
    Off,
    /// The program or kernel started (and every chained script), permanently.
    Program,
    /// The program and every initrd and module handed to it, permanently.
    All,
}

/// The oldest TLS version HTTPS accepts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum TlsMin {
    /// TLS 1.0 (legacy servers only).
    Tls10,
    /// TLS 1.1.
    Tls11,
    /// TLS 1.2, the default.
    #[default]
    Tls12,
    /// TLS 1.3 only.
    Tls13,
}

impl TlsMin {
    /// The version as written: `1.0` … `1.3`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Tls10 => "1.0",
            Self::Tls11 => "1.1",
            Self::Tls12 => "1.2",
            Self::Tls13 => "1.3",
        }
    }

    /// Parses `1.0` … `1.3`.
    pub fn parse(text: &str) -> Option<Self> {
        [Self::Tls10, Self::Tls11, Self::Tls12, Self::Tls13].into_iter().find(|v| v.as_str() == text)
    }
}

impl RequireSigned {
    fn as_str(self) -> &'static str {
        match self {
            Self::Off => "off",
            Self::Program => "program",
            Self::All => "all",
        }
    }
}

/// What the firmware enforces, as the build decided it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Policy {
    /// Images that must be verified before they run.
    pub require_signed: RequireSigned,
    /// The oldest TLS version accepted.
    pub tls_min: TlsMin,
    /// DHCP before the script runs.
    pub autodhcp: bool,
    /// A stale CRL fails closed.
    pub crl_require_fresh: bool,
}

/// The setting names, sorted: the order [`Policy::settings`] writes them in.
pub const NAMES: [&str; 4] = ["autodhcp", "crl-require-fresh", "require-signed", "tls-min"];

/// Why the settings do not make a policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PolicyError {
    /// A name this firmware does not know.
    UnknownName(String),
    /// A known name with a value it does not take.
    BadValue {
        /// The setting.
        name: String,
        /// The value found.
        value: String,
    },
    /// A name given twice.
    Duplicate(String),
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownName(name) => write!(
                f,
                "the policy setting '{name}' is not one this firmware knows ({}); \
                 build the image with the bootsign release that made this firmware",
                NAMES.join(", ")
            ),
            Self::BadValue { name, value } => {
                write!(f, "the policy setting '{name}' has the value '{value}', which it does not take")
            }
            Self::Duplicate(name) => write!(f, "the policy setting '{name}' is given twice"),
        }
    }
}

fn on_off(name: &str, value: &str) -> Result<bool, PolicyError> {
    match value {
        "on" => Ok(true),
        "off" => Ok(false),
        _ => Err(PolicyError::BadValue { name: name.to_string(), value: value.to_string() }),
    }
}

fn on_off_str(on: bool) -> &'static str {
    if on { "on" } else { "off" }
}

impl Default for Policy {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl Policy {
    /// The policy of an image built without options: no signature required by the build,
    /// TLS 1.2 and later, DHCP first, stale CRLs still revoke what they list.
    pub const DEFAULT: Policy = Policy {
        require_signed: RequireSigned::Off,
        tls_min: TlsMin::Tls12,
        autodhcp: true,
        crl_require_fresh: false,
    };

    /// Reads the policy from setting records (`name`, `value`).
    pub fn from_settings(settings: &[(&str, &str)]) -> Result<Self, PolicyError> {
        let mut policy = Self::DEFAULT;
        let mut seen: Vec<&str> = Vec::new();
        for &(name, value) in settings {
            if seen.contains(&name) {
                return Err(PolicyError::Duplicate(name.to_string()));
            }
            seen.push(name);
            let bad = || PolicyError::BadValue { name: name.to_string(), value: value.to_string() };
            match name {
                "require-signed" => {
                    policy.require_signed = match value {
                        "program" => RequireSigned::Program,
                        "all" => RequireSigned::All,
                        "off" => RequireSigned::Off,
                        _ => return Err(bad()),
                    }
                }
                "tls-min" => policy.tls_min = TlsMin::parse(value).ok_or_else(bad)?,
                "autodhcp" => policy.autodhcp = on_off(name, value)?,
                "crl-require-fresh" => policy.crl_require_fresh = on_off(name, value)?,
                _ => return Err(PolicyError::UnknownName(name.to_string())),
            }
        }
        Ok(policy)
    }

    /// The setting records for this policy: the values that differ from the defaults,
    /// sorted by name.
    pub fn settings(&self) -> Vec<(&'static str, &'static str)> {
        self.entries().into_iter().filter(|(name, value)| Self::DEFAULT.value(name) != Some(*value)).collect()
    }

    /// Every setting with its value, defaults included, sorted by name (for display).
    pub fn entries(&self) -> Vec<(&'static str, &'static str)> {
        NAMES.iter().map(|n| (*n, self.value(n).expect("every name has a value"))).collect()
    }

    fn value(&self, name: &str) -> Option<&'static str> {
        Some(match name {
            "autodhcp" => on_off_str(self.autodhcp),
            "crl-require-fresh" => on_off_str(self.crl_require_fresh),
            "require-signed" => self.require_signed.as_str(),
            "tls-min" => self.tls_min.as_str(),
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_encode_to_nothing_and_back() {
        assert_eq!(Policy::default().require_signed, RequireSigned::Off);
        assert!(Policy::DEFAULT.settings().is_empty());
        assert_eq!(Policy::from_settings(&[]), Ok(Policy::DEFAULT));
        let mut sorted = NAMES;
        sorted.sort();
        assert_eq!(sorted, NAMES);
    }

    #[test]
    fn every_field_round_trips() {
        for require_signed in [RequireSigned::Off, RequireSigned::Program, RequireSigned::All] {
            for tls_min in [TlsMin::Tls10, TlsMin::Tls11, TlsMin::Tls12, TlsMin::Tls13] {
                for autodhcp in [false, true] {
                    for crl_require_fresh in [false, true] {
                        let p = Policy { require_signed, tls_min, autodhcp, crl_require_fresh };
                        assert_eq!(Policy::from_settings(&p.settings()), Ok(p));
                        let all = p.entries();
                        assert_eq!(Policy::from_settings(&all), Ok(p), "explicit defaults read too");
                    }
                }
            }
        }
        let strict = Policy { require_signed: RequireSigned::All, tls_min: TlsMin::Tls13, ..Policy::DEFAULT };
        assert_eq!(strict.settings(), [("require-signed", "all"), ("tls-min", "1.3")]);
    }

    #[test]
    fn unknown_and_malformed_settings_fail_closed() {
        let err = Policy::from_settings(&[("require-signed-initrd", "1")]).unwrap_err();
        assert_eq!(err, PolicyError::UnknownName("require-signed-initrd".into()));
        assert!(err.to_string().contains("'require-signed-initrd' is not one this firmware knows"));
        for (name, value) in [
            ("require-signed", "1"),
            ("require-signed", "yes"),
            ("tls-min", "1.4"),
            ("tls-min", ""),
            ("autodhcp", "0"),
            ("crl-require-fresh", "ON"),
        ] {
            assert_eq!(
                Policy::from_settings(&[(name, value)]),
                Err(PolicyError::BadValue { name: name.into(), value: value.into() }),
                "{name}={value}"
            );
        }
        assert_eq!(
            Policy::from_settings(&[("tls-min", "1.3"), ("tls-min", "1.0")]),
            Err(PolicyError::Duplicate("tls-min".into()))
        );
    }
}
