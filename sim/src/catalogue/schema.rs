//! The vocabulary of the catalogue: what a service, an API, an error and the shapes of request
//! and response are, and the `const` builders the table in `apis.rs` is written with.

use super::principals::Principal;

/// An AWS service as CloudTrail names it.
#[derive(Debug)]
pub(crate) struct Service {
    /// `eventSource`.
    pub(crate) source: &'static str,
    /// Prefix of the service's IAM actions, used in `AccessDenied` messages (`ec2:RunInstances`).
    pub(crate) iam_prefix: &'static str,
    /// First label of the service's endpoint, for `tlsDetails.clientProvidedHostHeader`.
    pub(crate) endpoint: &'static str,
    /// `eventVersion`: services move to new versions at different times.
    pub(crate) event_version: &'static str,
    /// Global services (IAM) are logged in one Region only.
    pub(crate) global: bool,
    /// S3 writes short request ids, a bucket `Host` and `additionalEventData`.
    pub(crate) s3: bool,
}

pub(crate) const fn service(
    source: &'static str,
    iam_prefix: &'static str,
    version: &'static str,
) -> Service {
    Service {
        source,
        iam_prefix,
        endpoint: iam_prefix,
        event_version: version,
        global: false,
        s3: false,
    }
}

/// The text of an error.
#[derive(Clone, Copy, Debug)]
pub(crate) enum ErrorMessage {
    /// A fixed message.
    Text(&'static str),
    /// IAM's `User: <arn> is not authorized to perform: <action> ...` message.
    NotAuthorized,
    /// EC2's variant, followed by an encoded authorization failure message.
    Ec2NotAuthorized,
}

/// One way an API fails.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ApiError {
    /// `errorCode`.
    pub(crate) code: &'static str,
    pub(crate) message: ErrorMessage,
    /// Fraction of the API's ordinary calls that fail this way.
    pub(crate) rate: f64,
}

pub(crate) const fn err(code: &'static str, message: &'static str, rate: f64) -> ApiError {
    ApiError {
        code,
        message: ErrorMessage::Text(message),
        rate,
    }
}

pub(crate) const fn denied(code: &'static str, rate: f64) -> ApiError {
    ApiError {
        code,
        message: ErrorMessage::NotAuthorized,
        rate,
    }
}

/// The shape of `requestParameters`. The record writer turns each variant into a small object
/// whose values come from the account-region's resources (instances, buckets, keys, ...).
#[derive(Clone, Copy, Debug)]
pub(crate) enum Params {
    /// `null`, as many List/Describe calls without arguments log.
    Null,
    /// `cluster` and `service`, with `forceNewDeployment`.
    EcsService,
    /// `cluster` and a list of `services`.
    EcsServices,
    AssumeRole,
    /// `keyId` and `encryptionAlgorithm` (Decrypt, Encrypt) or `keySpec` (GenerateDataKey).
    KmsKey {
        data_key: bool,
    },
    /// An EC2 `filterSet` on the account's VPC.
    Ec2VpcFilter,
    /// `instancesSet` with one instance.
    InstanceSet,
    /// `instanceId` alone.
    Instance,
    RunInstances,
    CreateTags,
    SecurityGroupRule,
    CreateSnapshot,
    DeleteSnapshot,
    CreateKeyPair,
    SsmAgent,
    AssociationStatus,
    /// `instanceId` and `maxResults`.
    InstanceAssociations,
    Parameter,
    PutParameter,
    /// `maxResults` alone.
    MaxResults(i64),
    SendCommand,
    /// `secretId` as an ARN.
    Secret,
    CreateSecret,
    /// `secretId` and a `clientRequestToken`.
    SecretWithToken,
    /// A Secrets Manager service event: `null` parameters, the secret in `additionalEventData`.
    SecretEvent,
    /// A bucket call: `bucketName`, `Host` and an empty sub-resource key (`policy`, `acl`, ...).
    Bucket(&'static str),
    /// `Host` of the S3 service endpoint.
    S3Service,
    /// `roleName` of a workload role.
    Role,
    PutRolePolicy,
    AttachRolePolicy,
    CreateRole,
    UpdateAssumeRolePolicy,
    /// `userName`.
    User,
    AttachUserPolicy,
    /// `functionName`.
    Function,
    CreateFunction,
    UpdateFunctionCode,
    LifecycleAction,
    /// `autoScalingGroupNames`.
    AutoScalingGroups,
    /// `name` of the trail, as an ARN.
    Trail,
    DescribeTrails,
    LookupEvents,
    LogStream,
    LogGroup,
    LogGroupPrefix,
    GetMetricData,
    PutMetricAlarm,
    /// `topicArn`.
    Topic,
    Subscribe,
    CreateQueue,
    /// `targetGroupArn`.
    TargetGroup,
}

/// The shape of `responseElements` on success (it is `null` on failure and for most reads).
#[derive(Clone, Copy, Debug)]
pub(crate) enum Response {
    Null,
    AssumeRole,
    /// EC2's `{"requestId":...,"_return":true}`.
    Ec2Return,
    RunInstances,
    TerminateInstances,
    CreateSnapshot,
    CreateKeyPair,
    PutParameter,
    SendCommand,
    /// `arn` and `name` of the secret.
    SecretArn,
    CreateAccessKey,
    CreateRole,
    Function,
    Subscribe,
    CreateQueue,
}

/// One API of the catalogue.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Api {
    pub(crate) service: &'static Service,
    /// `eventName`.
    pub(crate) name: &'static str,
    /// `readOnly`, as CloudTrail logs it for this API.
    pub(crate) read_only: bool,
    /// Mean calls per minute over a weekday, at scale 1, before the account-region's own
    /// multiplier.
    pub(crate) rate: f64,
    /// Share of the calls made by people (office hours, quiet weekends); the rest is machine
    /// traffic, flat around the clock.
    pub(crate) office: f64,
    /// Who calls, with relative weights.
    pub(crate) principals: &'static [(Principal, u32)],
    /// How ordinary calls fail.
    pub(crate) errors: &'static [ApiError],
    pub(crate) params: Params,
    pub(crate) response: Response,
    /// For agents that report on a timer: every agent calls once every this many minutes, at
    /// its own fixed phase, so the per-minute count hardly varies. 0 for calls that arrive at
    /// random (Poisson).
    pub(crate) heartbeat_minutes: u32,
}

pub(crate) const fn read(
    service: &'static Service,
    name: &'static str,
    rate: f64,
    office: f64,
) -> Api {
    Api {
        service,
        name,
        read_only: true,
        rate,
        office,
        principals: &[(Principal::Admin, 1)],
        errors: &[],
        params: Params::Null,
        response: Response::Null,
        heartbeat_minutes: 0,
    }
}

pub(crate) const fn write(
    service: &'static Service,
    name: &'static str,
    rate: f64,
    office: f64,
) -> Api {
    Api {
        read_only: false,
        ..read(service, name, rate, office)
    }
}

impl Api {
    pub(crate) const fn by(self, principals: &'static [(Principal, u32)]) -> Api {
        Api { principals, ..self }
    }

    pub(crate) const fn errors(self, errors: &'static [ApiError]) -> Api {
        Api { errors, ..self }
    }

    pub(crate) const fn params(self, params: Params) -> Api {
        Api { params, ..self }
    }

    pub(crate) const fn response(self, response: Response) -> Api {
        Api { response, ..self }
    }

    pub(crate) const fn heartbeat(self, heartbeat_minutes: u32) -> Api {
        Api {
            heartbeat_minutes,
            ..self
        }
    }
}
