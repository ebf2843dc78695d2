//! What `labels.json` records: how a trail was simulated ([`Simulation`]) and the anomalies
//! injected into it ([`Label`]). `trailsight replay --labels` reads it back to score the
//! detector.

use serde::{Deserialize, Serialize};

/// The CloudTrail Insights type an anomaly should raise, and the series key: the engine's own.
pub use trailsight_engine::{EventCategory, InsightType, SeriesKey};

/// The kind of an injected anomaly.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnomalyKind {
    /// A few calls to a write API that is almost never called.
    RareBurst,
    /// A busy write API called several times more than usual for a while.
    WriteSurge,
    /// One API returning one error code many times a minute.
    ErrorStorm,
    /// A quiet write API called tens of times more than usual for most of an hour, at night.
    SustainedIncrease,
    /// A principal never seen before calling a write API many times a minute.
    NewPrincipal,
    /// A steady write API that stops being called for half an hour to two hours.
    DropToZero,
    /// Negative control: a burst of read-only calls, which call-rate insights never count.
    ReadOnlyBurst,
    /// Negative control: the nightly job's run, which happens every day at the same time.
    NormalPeak,
}

impl AnomalyKind {
    /// Every kind, in a fixed order.
    pub const ALL: [AnomalyKind; 8] = [
        AnomalyKind::RareBurst,
        AnomalyKind::WriteSurge,
        AnomalyKind::ErrorStorm,
        AnomalyKind::SustainedIncrease,
        AnomalyKind::NewPrincipal,
        AnomalyKind::DropToZero,
        AnomalyKind::ReadOnlyBurst,
        AnomalyKind::NormalPeak,
    ];

    /// Whether this is a negative control: activity that must not raise an insight.
    pub fn is_control(self) -> bool {
        matches!(self, AnomalyKind::ReadOnlyBurst | AnomalyKind::NormalPeak)
    }

    /// Its name in `labels.json`.
    pub fn as_str(self) -> &'static str {
        match self {
            AnomalyKind::RareBurst => "rare_burst",
            AnomalyKind::WriteSurge => "write_surge",
            AnomalyKind::ErrorStorm => "error_storm",
            AnomalyKind::SustainedIncrease => "sustained_increase",
            AnomalyKind::NewPrincipal => "new_principal",
            AnomalyKind::DropToZero => "drop_to_zero",
            AnomalyKind::ReadOnlyBurst => "read_only_burst",
            AnomalyKind::NormalPeak => "normal_peak",
        }
    }
}

/// One injected anomaly, as written to `labels.json` (and read back by `replay --labels`).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(from = "LabelWire", into = "LabelWire")]
pub struct Label {
    /// `<account>-<region>-<n>`, numbered by start time within the account-region.
    pub id: String,
    /// What was injected.
    pub kind: AnomalyKind,
    /// The series the anomaly is in, with the insight type expected and, for an error storm,
    /// its error code. The simulator writes management events only.
    pub key: SeriesKey,
    /// First minute of the injected calls (`YYYY-MM-DDTHH:MM:00Z`).
    pub start: String,
    /// End of the injected calls, exclusive, on a minute boundary.
    pub end: String,
    /// Number of injected calls (the API's baseline calls in the window are not counted; 0 for
    /// a drop, whose calls were removed, and for the nightly job's normal run).
    pub calls: u64,
    /// A negative control: an insight on this API overlapping the window is a false alarm.
    pub negative_control: bool,
}

/// [`Label`] as `labels.json` spells it: the key's fields flat, in this order, and
/// `eventCategory` only when it is not Management (files written before the field existed read
/// as Management).
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct LabelWire {
    id: String,
    kind: AnomalyKind,
    account: String,
    region: String,
    event_source: String,
    event_name: String,
    insight_type: InsightType,
    error_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    event_category: Option<EventCategory>,
    start: String,
    end: String,
    calls: u64,
    negative_control: bool,
}

impl From<LabelWire> for Label {
    fn from(wire: LabelWire) -> Label {
        Label {
            id: wire.id,
            kind: wire.kind,
            key: SeriesKey {
                account: Some(wire.account),
                region: wire.region,
                event_source: wire.event_source,
                event_name: wire.event_name,
                insight_type: wire.insight_type,
                error_code: wire.error_code,
                category: wire.event_category.unwrap_or(EventCategory::Management),
            },
            start: wire.start,
            end: wire.end,
            calls: wire.calls,
            negative_control: wire.negative_control,
        }
    }
}

impl From<Label> for LabelWire {
    fn from(label: Label) -> LabelWire {
        let key = label.key;
        LabelWire {
            id: label.id,
            kind: label.kind,
            account: key.account.unwrap_or_default(),
            region: key.region,
            event_source: key.event_source,
            event_name: key.event_name,
            insight_type: key.insight_type,
            error_code: key.error_code,
            event_category: Some(key.category).filter(|c| *c != EventCategory::Management),
            start: label.start,
            end: label.end,
            calls: label.calls,
            negative_control: label.negative_control,
        }
    }
}

/// `labels.json`: how the trail was made and the anomalies injected into it.
///
/// An object rather than a bare array: it records how the trail was made, and a directory walk
/// of the trail does not mistake it for CloudTrail records.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LabelsFile {
    /// The settings that produced the trail; always written, but a hand-made labels file may
    /// leave it out (scores that need the trail's length are then not computed).
    pub simulation: Option<Simulation>,
    /// The injected anomalies.
    pub labels: Vec<Label>,
}

/// The settings of a simulation, as recorded in `labels.json`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Simulation {
    /// Seed of every random choice.
    pub seed: u64,
    /// Length of the simulated period in days.
    pub days: f64,
    /// Multiplier on every call rate.
    pub scale: f64,
    /// Start of the simulated period, `YYYY-MM-DDTHH:MM:SSZ`.
    pub start: String,
    /// Account ids.
    pub accounts: Vec<String>,
    /// Regions.
    pub regions: Vec<String>,
    /// Whether anomalies were injected.
    pub anomalies: bool,
}
