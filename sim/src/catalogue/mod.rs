//! The traffic catalogue: the services and APIs a simulated account calls, who calls them, how
//! often, how they fail, and which request shapes they carry.
//!
//! This module is data. Growing the model (more APIs, other principals, other mixes) should
//! mostly mean editing its tables: `apis.rs` (the APIs and the candidate lists of bursts and
//! anomalies), `principals.rs` (who calls) and `names.rs` (the account's resources), in the
//! vocabulary of `schema.rs`. The generator in `traffic.rs` and the record writer in `record/`
//! read them without knowing any API by name, except through the candidate lists.
//!
//! Field values follow real CloudTrail records (see `shared/corpus/invictus-aws_dataset`): for
//! instance STS `AssumeRole`, EC2 `GetPasswordData` and KMS `Decrypt`/`Encrypt`/`GenerateDataKey`
//! are logged with `readOnly: true`, so they are reads here even though they feel like writes.

mod apis;
mod names;
mod principals;
mod schema;

pub(crate) use apis::{
    APIS, CRON_APIS, DEPLOY_APIS, DROP_APIS, ERROR_STORMS, NEW_PRINCIPAL_APIS, QUIET_APIS,
    RARE_BURST_APIS, READ_BURST_APIS, RELEASE_API, SCALE_IN_API, SCALE_OUT_API, SURGE_APIS,
    api_index,
};
pub(crate) use names::{
    BUCKETS, ECS_SERVICES, FUNCTIONS, PARAMETERS, POLICIES, QUEUES, ROLES, SECRETS_NAMES, TOPICS,
    TRAIL_NAME, USERS,
};
pub(crate) use principals::{Identity, Origin, Principal, Sessions, is_console_agent};
pub(crate) use schema::{Api, ApiError, ErrorMessage, Params, Response};
