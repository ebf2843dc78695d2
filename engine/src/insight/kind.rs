//! What an insight is about and where it stands: its type, Start or End, the attributes it is
//! attributed to, and the namespace of its IDs. Shared by the series key and the records.

use std::fmt;

use serde::Serialize;
use uuid::Uuid;

/// The two kinds of Insights.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, serde::Deserialize,
)]
pub enum InsightType {
    /// Unusual rates of write management calls (or data calls) to one API.
    ApiCallRateInsight,
    /// Unusual rates of one error code returned by one API.
    ApiErrorRateInsight,
}

impl InsightType {
    /// The name CloudTrail uses.
    pub fn as_str(self) -> &'static str {
        match self {
            InsightType::ApiCallRateInsight => "ApiCallRateInsight",
            InsightType::ApiErrorRateInsight => "ApiErrorRateInsight",
        }
    }

    /// The attributes CloudTrail attributes this type of insight to, in record order. Error-rate
    /// insights have no `errorCode` attribution: the error code is the insight's key.
    pub fn attributes(self) -> &'static [AttributeKind] {
        match self {
            InsightType::ApiCallRateInsight => &[
                AttributeKind::UserIdentityArn,
                AttributeKind::UserAgent,
                AttributeKind::ErrorCode,
            ],
            InsightType::ApiErrorRateInsight => {
                &[AttributeKind::UserIdentityArn, AttributeKind::UserAgent]
            }
        }
    }
}

impl fmt::Display for InsightType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether a record opens or closes an insight.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum InsightState {
    /// The first minute of unusual activity.
    Start,
    /// The first minute after it.
    End,
}

impl InsightState {
    /// The name CloudTrail uses.
    pub fn as_str(self) -> &'static str {
        match self {
            InsightState::Start => "Start",
            InsightState::End => "End",
        }
    }
}

/// An attribute insights are attributed to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum AttributeKind {
    /// `userIdentityArn`; see [`crate::event::Event::identity_attribution`].
    UserIdentityArn,
    /// `userAgent`.
    UserAgent,
    /// `errorCode`, `"null"` for calls without an error.
    ErrorCode,
}

impl AttributeKind {
    /// The name CloudTrail uses.
    pub fn as_str(self) -> &'static str {
        match self {
            AttributeKind::UserIdentityArn => "userIdentityArn",
            AttributeKind::UserAgent => "userAgent",
            AttributeKind::ErrorCode => "errorCode",
        }
    }

    /// A dense index, for arrays indexed by attribute.
    pub fn index(self) -> usize {
        self as usize
    }
}

/// The namespace of trailsight's UUID v5 event IDs.
pub const ID_NAMESPACE: Uuid = Uuid::from_u128(0x5f1c_7a2e_4b1d_5e8a_9c3f_2d6b_8e0a_4c71);
