//! Detector configuration: what is analysed, how sensitive the model is, how late events may
//! arrive, and per-key overrides. Every setting has a default; [`DetectorConfig::validate`]
//! checks the whole configuration before a [`crate::Detector`] is built from it.
//!
//! The same structure is read from TOML by the `trailsight` command (`--config`), with
//! kebab-case keys:
//!
//! ```toml
//! sensitivity = 0.5
//! insight-types = ["ApiCallRateInsight", "ApiErrorRateInsight"]
//! event-categories = ["Management"]
//!
//! [[overrides]]                 # quieter for a noisy CI role's API
//! event-source = "codebuild.amazonaws.com"
//! event-name = "Start*"
//! sensitivity = 0.2
//!
//! [[overrides]]                 # never report this one
//! event-source = "sts.amazonaws.com"
//! event-name = "AssumeRole"
//! enabled = false
//! ```

use serde::{Deserialize, Serialize};

use crate::event::{EventCategory, ReadOnlyFallback};
use crate::insight::{InsightType, SeriesKeyRef};
use crate::time::{MINUTES_PER_DAY, MINUTES_PER_WEEK, Timestamp};

/// Everything a [`crate::Detector`] can be configured with.
///
/// ```
/// use trailsight_engine::{DetectorConfig, EventCategory, InsightType, KeyOverride};
/// let config = DetectorConfig {
///     sensitivity: 0.7,
///     event_categories: vec![EventCategory::Management, EventCategory::Data],
///     insight_types: vec![InsightType::ApiCallRateInsight],
///     allowed_lateness_minutes: 30,
///     overrides: vec![KeyOverride {
///         event_source: Some("sts.amazonaws.com".into()),
///         enabled: Some(false),
///         ..KeyOverride::default()
///     }],
///     ..DetectorConfig::default()
/// };
/// assert!(config.validate().is_ok());
/// assert!(DetectorConfig { sensitivity: 2.0, ..config }.validate().is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct DetectorConfig {
    /// From 0 (fewest insights) to 1 (most). Sets the margin over the normal ceiling and the
    /// significance level of the model; see `docs/algorithm.md`. Default 0.5.
    pub sensitivity: f64,
    /// Which insight types to compute. Default: both.
    pub insight_types: Vec<InsightType>,
    /// Which event categories to analyse: `Management` and/or `Data`. Default: `Management`.
    pub event_categories: Vec<EventCategory>,
    /// How far, in minutes of event time, an event may trail the newest event of its
    /// account and region and still be counted exactly in its minute. A minute is decided when
    /// the newest event is this much later. Default 60.
    pub allowed_lateness_minutes: u32,
    /// How long event IDs are remembered for de-duplication, in minutes behind the decided
    /// minute. Events older than that are not counted and are reported as too late, so that no
    /// duplicate can be counted twice. Default 1440; raised to `allowed_lateness_minutes` when
    /// that is larger ([`DetectorConfig::normalised`]).
    pub dedup_horizon_minutes: u32,
    /// Minutes of activity back within normal bounds before an insight ends. Default 5, at
    /// most 60.
    pub end_quiet_minutes: u32,
    /// The fewest events in a detection window that can start an insight. Default 3.
    pub min_count: u32,
    /// What an event without `readOnly` counts as. Default: inferred from its `eventName`.
    pub read_only_fallback: ReadOnlyFallback,
    /// Keep session names in assumed-role ARNs in `userIdentityArn` attributions. Default
    /// false, matching AWS's documented examples.
    pub keep_session_names: bool,
    /// Events at or after this time are rejected as being in the future. The engine reads no
    /// clock; the `trailsight` command and the Python package set this with
    /// [`DetectorConfig::reject_after_now`], to one day after the wall-clock time.
    #[serde(skip)]
    pub reject_after: Option<Timestamp>,
    /// Per-key settings, applied in order; a later match overrides an earlier one field by field.
    pub overrides: Vec<KeyOverride>,
    /// Bounds on the detector's state, for hostile input; see [`Limits`].
    pub limits: Limits,
}

/// How far past the wall clock an event may be dated and still be counted, in seconds (one
/// day); see [`DetectorConfig::reject_after_now`].
pub const FUTURE_SLACK_SECONDS: i64 = 86_400;

/// The longest string the detector keeps, in bytes. CloudTrail's own limits are shorter (1 KB
/// for `userAgent` and `errorCode`, 2048 characters for an ARN), so only input that did not come
/// from CloudTrail can exceed it: a longer attribute value is cut to it, and an event whose
/// account, region, event source, event name or error code is longer is not analysed.
pub const MAX_STRING_BYTES: usize = 2048;

/// Bounds on the detector's state. Real trails stay far below them; input crafted to exhaust
/// memory (a million distinct event names, a new user agent per call) hits them, and the
/// detector then keeps working in bounded memory and counts what it set aside
/// ([`crate::DetectorStats::limits`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct Limits {
    /// Account-regions tracked; events of further ones are not analysed. Default 100,000.
    pub max_account_regions: usize,
    /// Series (APIs, or API and error code) per account-region; events that would start a new
    /// one beyond this are not analysed. Default 20,000.
    pub max_series_per_account_region: usize,
    /// Distinct strings kept (identities, user agents, error codes, names). When the table is
    /// full and compacting it frees nothing, a new identity or user agent is counted under the
    /// value `(other)`, and an event with a new name or error code is not analysed. Default
    /// 500,000.
    pub max_strings: usize,
    /// Bytes of text in those strings; the same rules apply. Default 128 MiB.
    pub max_string_bytes: usize,
    /// Event IDs remembered per account-region for de-duplication. Past it, the IDs of the
    /// oldest minutes are forgotten early, and later events of those minutes are reported as
    /// too late rather than risk counting a duplicate. Default 10,000,000.
    pub max_event_ids_per_account_region: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_account_regions: 100_000,
            max_series_per_account_region: 20_000,
            max_strings: 500_000,
            max_string_bytes: 128 << 20,
            max_event_ids_per_account_region: 10_000_000,
        }
    }
}

impl Default for DetectorConfig {
    fn default() -> DetectorConfig {
        DetectorConfig {
            sensitivity: 0.5,
            insight_types: vec![
                InsightType::ApiCallRateInsight,
                InsightType::ApiErrorRateInsight,
            ],
            event_categories: vec![EventCategory::Management],
            allowed_lateness_minutes: 60,
            dedup_horizon_minutes: MINUTES_PER_DAY as u32,
            end_quiet_minutes: 5,
            min_count: 3,
            read_only_fallback: ReadOnlyFallback::default(),
            keep_session_names: false,
            reject_after: None,
            overrides: Vec::new(),
            limits: Limits::default(),
        }
    }
}

/// Settings for the series that match every given `match` field.
///
/// String matches are exact, except that a trailing `*` matches any suffix (`"Describe*"`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct KeyOverride {
    /// Match: `recipientAccountId`.
    pub account: Option<String>,
    /// Match: `awsRegion`.
    pub region: Option<String>,
    /// Match: `eventSource`.
    pub event_source: Option<String>,
    /// Match: `eventName`.
    pub event_name: Option<String>,
    /// Match: insight type.
    pub insight_type: Option<InsightType>,
    /// Match: error code (error-rate series only).
    pub error_code: Option<String>,
    /// Set: sensitivity for the matching series.
    pub sensitivity: Option<f64>,
    /// Set: minimum count for the matching series.
    pub min_count: Option<u32>,
    /// Set: `false` to never raise insights for the matching series.
    pub enabled: Option<bool>,
}

/// A configuration that [`DetectorConfig::validate`] rejected.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A sensitivity outside 0..=1.
    #[error("sensitivity must be between 0 and 1, got {0}")]
    Sensitivity(f64),
    /// No insight type selected.
    #[error("at least one insight type must be selected")]
    NoInsightType,
    /// No category selected, or one that Insights cannot analyse.
    #[error("event categories must be a non-empty selection of Management and Data, got {0:?}")]
    EventCategories(Vec<EventCategory>),
    /// Lateness beyond the baseline.
    #[error("allowed lateness must be at most 10080 minutes (7 days), got {0}")]
    Lateness(u32),
    /// Dedup horizon shorter than the lateness.
    #[error(
        "dedup horizon ({horizon} minutes) must be at least the allowed lateness ({lateness} minutes) and at most 10080"
    )]
    DedupHorizon {
        /// The horizon.
        horizon: u32,
        /// The lateness.
        lateness: u32,
    },
    /// End quiet minutes out of range.
    #[error("end quiet minutes must be between 1 and 60, got {0}")]
    EndQuietMinutes(u32),
    /// Minimum count of zero.
    #[error("min count must be at least 1")]
    MinCount,
    /// Limits too small to work with.
    #[error(
        "limits too small (at least 1 account-region, 1 series, 16 strings, 32 KiB of strings and 1000 event IDs): {0}"
    )]
    Limits(String),
    /// An override matching everything, or with an invalid setting.
    #[error("override {index}: {reason}")]
    Override {
        /// 0-based position in `overrides`.
        index: usize,
        /// What is wrong.
        reason: String,
    },
}

impl DetectorConfig {
    /// Checks every setting; see [`ConfigError`].
    pub fn validate(&self) -> Result<(), ConfigError> {
        check_sensitivity(self.sensitivity).map_err(ConfigError::Sensitivity)?;
        if self.insight_types.is_empty() {
            return Err(ConfigError::NoInsightType);
        }
        let analysable =
            |c: &EventCategory| matches!(c, EventCategory::Management | EventCategory::Data);
        if self.event_categories.is_empty() || !self.event_categories.iter().all(analysable) {
            return Err(ConfigError::EventCategories(self.event_categories.clone()));
        }
        if i64::from(self.allowed_lateness_minutes) > MINUTES_PER_WEEK {
            return Err(ConfigError::Lateness(self.allowed_lateness_minutes));
        }
        if self.dedup_horizon_minutes < self.allowed_lateness_minutes
            || i64::from(self.dedup_horizon_minutes) > MINUTES_PER_WEEK
        {
            return Err(ConfigError::DedupHorizon {
                horizon: self.dedup_horizon_minutes,
                lateness: self.allowed_lateness_minutes,
            });
        }
        if !(1..=60).contains(&self.end_quiet_minutes) {
            return Err(ConfigError::EndQuietMinutes(self.end_quiet_minutes));
        }
        if self.min_count == 0 {
            return Err(ConfigError::MinCount);
        }
        let l = &self.limits;
        if l.max_account_regions == 0
            || l.max_series_per_account_region == 0
            || l.max_strings < 16
            || l.max_string_bytes < 16 * MAX_STRING_BYTES
            || l.max_event_ids_per_account_region < 1000
        {
            return Err(ConfigError::Limits(format!("{l:?}")));
        }
        for (index, o) in self.overrides.iter().enumerate() {
            let reason = if o.account.is_none()
                && o.region.is_none()
                && o.event_source.is_none()
                && o.event_name.is_none()
                && o.insight_type.is_none()
                && o.error_code.is_none()
            {
                Some("matches every series; give at least one match field".to_owned())
            } else if let Some(Err(s)) = o.sensitivity.map(check_sensitivity) {
                Some(format!("sensitivity must be between 0 and 1, got {s}"))
            } else if o.min_count == Some(0) {
                Some("min count must be at least 1".to_owned())
            } else if o.sensitivity.is_none() && o.min_count.is_none() && o.enabled.is_none() {
                Some("sets nothing; give sensitivity, min-count or enabled".to_owned())
            } else {
                None
            };
            if let Some(reason) = reason {
                return Err(ConfigError::Override { index, reason });
            }
        }
        Ok(())
    }

    /// The configuration with the rules that tie its settings together applied; the detector
    /// applies them itself ([`crate::Detector::new`]), and every reader of a configuration
    /// (the command, the Python package) calls this before showing or validating one, so they
    /// all agree:
    ///
    /// - a larger allowed lateness raises the dedup horizon to it: an event may not be counted
    ///   exactly in its minute yet be too late to be told from a duplicate. This holds however
    ///   the two were given (defaults, a TOML file, flags, keyword arguments).
    ///
    /// ```
    /// use trailsight_engine::DetectorConfig;
    /// let config = DetectorConfig {
    ///     allowed_lateness_minutes: 2880,
    ///     dedup_horizon_minutes: 1440,
    ///     ..DetectorConfig::default()
    /// };
    /// assert!(config.validate().is_err());
    /// let config = config.normalised();
    /// assert_eq!(config.dedup_horizon_minutes, 2880);
    /// assert!(config.validate().is_ok());
    /// ```
    pub fn normalised(mut self) -> DetectorConfig {
        self.dedup_horizon_minutes = self
            .dedup_horizon_minutes
            .max(self.allowed_lateness_minutes);
        self
    }

    /// Sets [`DetectorConfig::reject_after`] from the time `now` (the engine reads no clock):
    /// events more than [`FUTURE_SLACK_SECONDS`] after it cannot come from CloudTrail, and a
    /// day of slack covers clock skew.
    ///
    /// ```
    /// use trailsight_engine::{DetectorConfig, time::Timestamp};
    /// let mut config = DetectorConfig::default();
    /// config.reject_after_now(Timestamp::parse("2024-03-04T10:00:00Z").unwrap());
    /// assert_eq!(config.reject_after, Timestamp::parse("2024-03-05T10:00:00Z").ok());
    /// ```
    pub fn reject_after_now(&mut self, now: Timestamp) {
        self.reject_after = Some(Timestamp(now.0.saturating_add(FUTURE_SLACK_SECONDS)));
    }

    /// Whether `insight_type` is selected.
    pub fn analyses(&self, insight_type: InsightType) -> bool {
        self.insight_types.contains(&insight_type)
    }
}

fn check_sensitivity(s: f64) -> Result<(), f64> {
    if (0.0..=1.0).contains(&s) {
        Ok(())
    } else {
        Err(s)
    }
}

impl KeyOverride {
    pub(crate) fn matches(&self, s: &SeriesKeyRef<'_>) -> bool {
        fn text(pattern: &Option<String>, value: Option<&str>) -> bool {
            match (pattern.as_deref(), value) {
                (None, _) => true,
                (Some(_), None) => false,
                (Some(p), Some(v)) => match p.strip_suffix('*') {
                    Some(prefix) => v.starts_with(prefix),
                    None => p == v,
                },
            }
        }
        text(&self.account, s.account)
            && text(&self.region, Some(s.region))
            && text(&self.event_source, Some(s.event_source))
            && text(&self.event_name, Some(s.event_name))
            && self.insight_type.is_none_or(|t| t == s.insight_type)
            && text(&self.error_code, s.error_code)
    }
}

/// The settings one series is decided with, after overrides.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct SeriesSettings {
    pub sensitivity: f64,
    pub min_count: u32,
    pub enabled: bool,
}

impl DetectorConfig {
    pub(crate) fn settings_for(&self, series: &SeriesKeyRef<'_>) -> SeriesSettings {
        let mut settings = SeriesSettings {
            sensitivity: self.sensitivity,
            min_count: self.min_count,
            enabled: true,
        };
        for o in self.overrides.iter().filter(|o| o.matches(series)) {
            settings.sensitivity = o.sensitivity.unwrap_or(settings.sensitivity);
            settings.min_count = o.min_count.unwrap_or(settings.min_count);
            settings.enabled = o.enabled.unwrap_or(settings.enabled);
        }
        settings
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_valid() {
        assert_eq!(DetectorConfig::default().validate(), Ok(()));
    }

    #[test]
    fn rejects_bad_settings() {
        let bad = [
            DetectorConfig {
                sensitivity: 1.5,
                ..Default::default()
            },
            DetectorConfig {
                sensitivity: f64::NAN,
                ..Default::default()
            },
            DetectorConfig {
                insight_types: vec![],
                ..Default::default()
            },
            DetectorConfig {
                event_categories: vec![EventCategory::NetworkActivity],
                ..Default::default()
            },
            DetectorConfig {
                dedup_horizon_minutes: 10,
                ..Default::default()
            },
            DetectorConfig {
                end_quiet_minutes: 0,
                ..Default::default()
            },
            DetectorConfig {
                min_count: 0,
                ..Default::default()
            },
            DetectorConfig {
                overrides: vec![KeyOverride {
                    sensitivity: Some(0.1),
                    ..Default::default()
                }],
                ..Default::default()
            },
            DetectorConfig {
                overrides: vec![KeyOverride {
                    event_name: Some("X".into()),
                    ..Default::default()
                }],
                ..Default::default()
            },
        ];
        for config in bad {
            assert!(config.validate().is_err(), "{config:?}");
        }
    }

    #[test]
    fn overrides_apply_in_order_with_prefix_patterns() {
        let config: DetectorConfig = toml_like(&[
            KeyOverride {
                event_name: Some("Describe*".into()),
                sensitivity: Some(0.1),
                ..Default::default()
            },
            KeyOverride {
                event_name: Some("DescribeRegions".into()),
                enabled: Some(false),
                ..Default::default()
            },
        ]);
        assert_eq!(config.validate(), Ok(()));
        let series = |name| SeriesKeyRef {
            account: Some("1"),
            region: "us-east-1",
            event_source: "ec2.amazonaws.com",
            event_name: name,
            insight_type: InsightType::ApiCallRateInsight,
            error_code: None,
            category: EventCategory::Management,
        };
        assert_eq!(
            config.settings_for(&series("DescribeRegions")),
            SeriesSettings {
                sensitivity: 0.1,
                min_count: 3,
                enabled: false
            }
        );
        assert_eq!(
            config.settings_for(&series("DescribeVpcs")).sensitivity,
            0.1
        );
        assert_eq!(
            config.settings_for(&series("RunInstances")).sensitivity,
            0.5
        );
    }

    fn toml_like(overrides: &[KeyOverride]) -> DetectorConfig {
        DetectorConfig {
            overrides: overrides.to_vec(),
            ..Default::default()
        }
    }
}
