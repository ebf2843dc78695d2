//! The catalogue's table: every API a simulated account calls, with its rate, callers, errors
//! and shapes, and the lists of APIs that normal bursts and anomalies pick from. This file is
//! data: growing the model should mostly mean editing it.

use super::principals::Principal;
use super::schema::{
    Api, ApiError, ErrorMessage, Params, Response, Service, denied, err, read, service, write,
};

static STS: Service = service("sts.amazonaws.com", "sts", "1.08");
static KMS: Service = service("kms.amazonaws.com", "kms", "1.08");
static EC2: Service = service("ec2.amazonaws.com", "ec2", "1.09");
static SSM: Service = service("ssm.amazonaws.com", "ssm", "1.08");
static SECRETS: Service = service("secretsmanager.amazonaws.com", "secretsmanager", "1.08");
static S3: Service = Service {
    s3: true,
    ..service("s3.amazonaws.com", "s3", "1.09")
};
static IAM: Service = Service {
    global: true,
    ..service("iam.amazonaws.com", "iam", "1.08")
};
static LAMBDA: Service = service("lambda.amazonaws.com", "lambda", "1.08");
static AUTOSCALING: Service = service("autoscaling.amazonaws.com", "autoscaling", "1.08");
static CLOUDTRAIL: Service = service("cloudtrail.amazonaws.com", "cloudtrail", "1.09");
static LOGS: Service = service("logs.amazonaws.com", "logs", "1.08");
static ECS: Service = service("ecs.amazonaws.com", "ecs", "1.09");
static MONITORING: Service = Service {
    endpoint: "monitoring",
    ..service("monitoring.amazonaws.com", "cloudwatch", "1.08")
};
static SNS: Service = service("sns.amazonaws.com", "sns", "1.09");
static SQS: Service = service("sqs.amazonaws.com", "sqs", "1.08");
static ELB: Service = service(
    "elasticloadbalancing.amazonaws.com",
    "elasticloadbalancing",
    "1.08",
);

const EC2_DENIED: ApiError = ApiError {
    code: "Client.UnauthorizedOperation",
    message: ErrorMessage::Ec2NotAuthorized,
    rate: 0.002,
};
const EC2_THROTTLED: ApiError = err(
    "Client.RequestLimitExceeded",
    "Request limit exceeded.",
    0.003,
);
const NO_SUCH_ENTITY: ApiError = err(
    "NoSuchEntityException",
    "The role with name app-legacy cannot be found.",
    0.03,
);

use Principal::{
    Admin, App, AsgRole, BackupUser, CiUser, ConfigRole, Deploy, Lambda, Monitor, ReadOnly,
    SsmAgent, Svc, SvcEvent,
};

/// The catalogue. Rates are weekday means per minute at scale 1; together they give about
/// 20 000 records on a weekday for one account-region (see `tests::weekday_volume`).
pub(crate) static APIS: &[Api] = &[
    // STS: session credentials for every workload; the busiest API after KMS Decrypt.
    read(&STS, "AssumeRole", 2.0, 0.3)
        .by(&[
            (Svc("lambda.amazonaws.com"), 3),
            (Svc("ec2.amazonaws.com"), 2),
            (CiUser, 1),
            (Admin, 1),
        ])
        .errors(&[denied("AccessDenied", 0.004)])
        .params(Params::AssumeRole)
        .response(Response::AssumeRole),
    read(&STS, "GetCallerIdentity", 0.5, 0.6).by(&[(CiUser, 2), (Deploy, 2), (Admin, 1), (App, 1)]),
    read(&STS, "GetSessionToken", 0.001, 1.0).by(&[(BackupUser, 1)]),
    // KMS: envelope encryption from applications, functions and services.
    read(&KMS, "Decrypt", 2.4, 0.2)
        .by(&[
            (Lambda, 3),
            (App, 3),
            (Svc("secretsmanager.amazonaws.com"), 1),
            (Svc("ssm.amazonaws.com"), 1),
        ])
        .errors(&[
            denied("AccessDeniedException", 0.002),
            err(
                "InvalidCiphertextException",
                "The ciphertext refers to a customer master key that does not exist, does not exist in this region, or you are not allowed to access.",
                0.0005,
            ),
        ])
        .params(Params::KmsKey { data_key: false }),
    read(&KMS, "GenerateDataKey", 0.4, 0.3)
        .by(&[(App, 2), (Lambda, 2), (Svc("s3.amazonaws.com"), 1)])
        .errors(&[denied("AccessDeniedException", 0.001)])
        .params(Params::KmsKey { data_key: true }),
    read(&KMS, "Encrypt", 0.2, 0.4)
        .by(&[(App, 1), (Lambda, 1)])
        .params(Params::KmsKey { data_key: false }),
    // EC2: monitoring and AWS Config poll Describe*; people and Terraform change things.
    read(&EC2, "DescribeInstances", 0.8, 0.3)
        .by(&[(Monitor, 3), (ConfigRole, 1), (Admin, 1), (ReadOnly, 1), (Deploy, 1)])
        .errors(&[EC2_DENIED, EC2_THROTTLED])
        .params(Params::InstanceSet),
    read(&EC2, "DescribeInstanceStatus", 0.4, 0.1)
        .by(&[(Monitor, 3), (AsgRole, 1)])
        .errors(&[EC2_THROTTLED])
        .params(Params::InstanceSet),
    read(&EC2, "DescribeSecurityGroups", 0.3, 0.4)
        .by(&[(ConfigRole, 2), (Admin, 1), (Deploy, 1), (Monitor, 1)])
        .errors(&[err(
            "Client.InvalidGroup.NotFound",
            "The security group 'sg-0d3f1e2c4b5a69788' does not exist",
            0.005,
        )])
        .params(Params::Ec2VpcFilter),
    read(&EC2, "DescribeSubnets", 0.2, 0.4)
        .by(&[(ConfigRole, 1), (Deploy, 1), (Admin, 1)])
        .params(Params::Ec2VpcFilter),
    read(&EC2, "DescribeVpcs", 0.2, 0.4).by(&[(ConfigRole, 1), (Deploy, 1), (Admin, 1)]),
    read(&EC2, "DescribeVolumes", 0.2, 0.2)
        .by(&[(Monitor, 2), (ConfigRole, 1)])
        .params(Params::Ec2VpcFilter),
    read(&EC2, "DescribeNetworkInterfaces", 0.3, 0.1)
        .by(&[(Svc("lambda.amazonaws.com"), 2), (ConfigRole, 1), (Monitor, 1)])
        .params(Params::Ec2VpcFilter),
    read(&EC2, "DescribeImages", 0.1, 0.5).by(&[(Deploy, 2), (Admin, 1), (AsgRole, 1)]),
    read(&EC2, "DescribeAvailabilityZones", 0.1, 0.5).by(&[(Deploy, 1), (Admin, 1)]),
    read(&EC2, "DescribeRegions", 0.1, 0.5).by(&[(Admin, 1), (Monitor, 1)]),
    write(&EC2, "RunInstances", 0.01, 0.8)
        .by(&[(Deploy, 2), (Admin, 1)])
        .errors(&[
            EC2_DENIED,
            err(
                "Server.InsufficientInstanceCapacity",
                "We currently do not have sufficient t3.medium capacity in the Availability Zone you requested.",
                0.01,
            ),
        ])
        .params(Params::RunInstances)
        .response(Response::RunInstances),
    write(&EC2, "TerminateInstances", 0.01, 0.8)
        .by(&[(Deploy, 1), (Admin, 1)])
        .params(Params::InstanceSet)
        .response(Response::TerminateInstances),
    write(&EC2, "CreateTags", 0.05, 0.7)
        .by(&[(Deploy, 3), (Admin, 1)])
        .errors(&[err(
            "Client.InvalidInstanceID.NotFound",
            "The instance ID 'i-0a1b2c3d4e5f67890' does not exist",
            0.01,
        )])
        .params(Params::CreateTags)
        .response(Response::Ec2Return),
    write(&EC2, "AuthorizeSecurityGroupIngress", 0.003, 0.9)
        .by(&[(Deploy, 2), (Admin, 1)])
        .errors(&[err(
            "Client.InvalidPermission.Duplicate",
            "the specified rule \"peer: 10.0.0.0/16, TCP, from port: 443, to port: 443, ALLOW\" already exists",
            0.1,
        )])
        .params(Params::SecurityGroupRule)
        .response(Response::Ec2Return),
    write(&EC2, "RevokeSecurityGroupIngress", 0.002, 0.9)
        .by(&[(Deploy, 1), (Admin, 1)])
        .params(Params::SecurityGroupRule)
        .response(Response::Ec2Return),
    read(&EC2, "GetPasswordData", 0.0002, 1.0)
        .by(&[(Admin, 1)])
        .errors(&[EC2_DENIED])
        .params(Params::Instance),
    write(&EC2, "CreateSnapshot", 0.005, 0.0)
        .by(&[(BackupUser, 1)])
        .params(Params::CreateSnapshot)
        .response(Response::CreateSnapshot),
    write(&EC2, "DeleteSnapshot", 0.01, 0.0)
        .by(&[(BackupUser, 1)])
        .params(Params::DeleteSnapshot)
        .response(Response::Ec2Return),
    write(&EC2, "CreateKeyPair", 0.0001, 1.0)
        .by(&[(Admin, 1)])
        .params(Params::CreateKeyPair)
        .response(Response::CreateKeyPair),
    // SSM: the agent on every instance checks in every few minutes, around the clock.
    // The SSM Agent reports its instance every five minutes; associations report on a timer too.
    write(&SSM, "UpdateInstanceInformation", 1.6, 0.0)
        .by(&[(SsmAgent, 1)])
        .errors(&[err("ThrottlingException", "Rate exceeded", 0.001)])
        .params(Params::SsmAgent)
        .heartbeat(5),
    write(&SSM, "UpdateInstanceAssociationStatus", 1.5, 0.0)
        .by(&[(SsmAgent, 1)])
        .params(Params::AssociationStatus)
        .heartbeat(5),
    read(&SSM, "ListInstanceAssociations", 0.4, 0.0)
        .by(&[(SsmAgent, 1)])
        .params(Params::InstanceAssociations),
    read(&SSM, "GetParameter", 0.6, 0.4)
        .by(&[(Lambda, 3), (App, 2), (Deploy, 1)])
        .errors(&[
            err("ParameterNotFound", "", 0.02),
            denied("AccessDeniedException", 0.001),
        ])
        .params(Params::Parameter),
    read(&SSM, "DescribeParameters", 0.1, 0.6)
        .by(&[(Admin, 1), (Deploy, 1), (ReadOnly, 1)])
        .params(Params::MaxResults(50)),
    read(&SSM, "DescribeInstanceInformation", 0.1, 0.5)
        .by(&[(Admin, 1), (Monitor, 1), (ReadOnly, 1)])
        .params(Params::MaxResults(50)),
    write(&SSM, "PutParameter", 0.02, 0.8)
        .by(&[(Deploy, 3), (Admin, 1)])
        .errors(&[err(
            "ParameterAlreadyExists",
            "The parameter already exists. To overwrite this value, set the overwrite option in the request to true.",
            0.05,
        )])
        .params(Params::PutParameter)
        .response(Response::PutParameter),
    write(&SSM, "DeleteParameter", 0.004, 0.9)
        .by(&[(Deploy, 1), (Admin, 1)])
        .errors(&[err("ParameterNotFound", "", 0.05)])
        .params(Params::Parameter),
    write(&SSM, "SendCommand", 0.01, 0.8)
        .by(&[(Admin, 1), (Deploy, 1)])
        .params(Params::SendCommand)
        .response(Response::SendCommand),
    // Secrets Manager.
    read(&SECRETS, "GetSecretValue", 0.6, 0.3)
        .by(&[(Lambda, 3), (App, 2)])
        .errors(&[
            err(
                "ResourceNotFoundException",
                "Secrets Manager can't find the specified secret.",
                0.005,
            ),
            denied("AccessDeniedException", 0.002),
        ])
        .params(Params::Secret),
    read(&SECRETS, "DescribeSecret", 0.1, 0.5)
        .by(&[(Deploy, 2), (Admin, 1), (ConfigRole, 1)])
        .params(Params::Secret),
    write(&SECRETS, "CreateSecret", 0.002, 0.9)
        .by(&[(Deploy, 2), (Admin, 1)])
        .errors(&[err(
            "ResourceExistsException",
            "The operation failed because the secret prod/app/db-master already exists.",
            0.05,
        )])
        .params(Params::CreateSecret)
        .response(Response::SecretArn),
    write(&SECRETS, "PutSecretValue", 0.005, 0.2)
        .by(&[(Lambda, 2), (Deploy, 1)])
        .params(Params::SecretWithToken)
        .response(Response::SecretArn),
    write(&SECRETS, "RotateSecret", 0.002, 0.5)
        .by(&[(Admin, 1), (Deploy, 1)])
        .params(Params::SecretWithToken)
        .response(Response::SecretArn),
    write(&SECRETS, "DeleteSecret", 0.001, 0.9)
        .by(&[(Admin, 1), (Deploy, 1)])
        .params(Params::Secret)
        .response(Response::SecretArn),
    write(&SECRETS, "StartSecretVersionDelete", 0.004, 0.0)
        .by(&[(SvcEvent("secretsmanager.amazonaws.com"), 1)])
        .params(Params::SecretEvent),
    write(&SECRETS, "EndSecretVersionDelete", 0.004, 0.0)
        .by(&[(SvcEvent("secretsmanager.amazonaws.com"), 1)])
        .params(Params::SecretEvent),
    // S3 management (bucket-level) calls; object calls are data events and not simulated.
    read(&S3, "ListBuckets", 0.15, 0.7)
        .by(&[(Admin, 1), (ReadOnly, 1), (CiUser, 1), (Monitor, 1)])
        .params(Params::S3Service),
    read(&S3, "GetBucketPolicy", 0.1, 0.4)
        .by(&[(ConfigRole, 2), (Admin, 1), (Monitor, 1)])
        .errors(&[
            err("NoSuchBucketPolicy", "The bucket policy does not exist", 0.35),
            err("AccessDenied", "Access Denied", 0.001),
        ])
        .params(Params::Bucket("policy")),
    read(&S3, "GetBucketPublicAccessBlock", 0.1, 0.4)
        .by(&[(ConfigRole, 2), (Admin, 1)])
        .errors(&[err(
            "NoSuchPublicAccessBlockConfiguration",
            "The public access block configuration was not found",
            0.3,
        )])
        .params(Params::Bucket("publicAccessBlock")),
    read(&S3, "GetBucketAcl", 0.1, 0.3)
        .by(&[
            (Svc("cloudtrail.amazonaws.com"), 2),
            (ConfigRole, 1),
            (Monitor, 1),
        ])
        .params(Params::Bucket("acl")),
    read(&S3, "GetBucketLocation", 0.1, 0.3)
        .by(&[(App, 1), (Monitor, 1), (CiUser, 1)])
        .params(Params::Bucket("location")),
    read(&S3, "GetBucketEncryption", 0.05, 0.4)
        .by(&[(ConfigRole, 1), (Admin, 1)])
        .errors(&[err(
            "ServerSideEncryptionConfigurationNotFoundError",
            "The server side encryption configuration was not found",
            0.05,
        )])
        .params(Params::Bucket("encryption")),
    write(&S3, "PutBucketPolicy", 0.0005, 0.9)
        .by(&[(Deploy, 2), (Admin, 1)])
        .errors(&[err("MalformedPolicy", "Policy has invalid resource", 0.05)])
        .params(Params::Bucket("policy")),
    write(&S3, "PutBucketTagging", 0.003, 0.9)
        .by(&[(Deploy, 1)])
        .params(Params::Bucket("tagging")),
    // IAM (global: logged in one Region only).
    read(&IAM, "GetRole", 0.2, 0.5)
        .by(&[(Deploy, 3), (Admin, 1), (ConfigRole, 1)])
        .errors(&[NO_SUCH_ENTITY])
        .params(Params::Role),
    read(&IAM, "ListRoles", 0.05, 0.7).by(&[(Admin, 1), (ReadOnly, 1), (Monitor, 1)]),
    read(&IAM, "GetUser", 0.05, 0.7)
        .by(&[(CiUser, 1), (Admin, 1)])
        .errors(&[err(
            "NoSuchEntityException",
            "The user with name contractor-xyz cannot be found.",
            0.02,
        )])
        .params(Params::User),
    read(&IAM, "ListAttachedRolePolicies", 0.1, 0.5)
        .by(&[(Deploy, 2), (ConfigRole, 1)])
        .params(Params::Role),
    write(&IAM, "CreateRole", 0.002, 0.9)
        .by(&[(Deploy, 1)])
        .errors(&[err(
            "EntityAlreadyExistsException",
            "Role with name app-server already exists.",
            0.05,
        )])
        .params(Params::CreateRole)
        .response(Response::CreateRole),
    write(&IAM, "AttachRolePolicy", 0.003, 0.9)
        .by(&[(Deploy, 1)])
        .params(Params::AttachRolePolicy),
    write(&IAM, "PutRolePolicy", 0.002, 0.9)
        .by(&[(Deploy, 1)])
        .params(Params::PutRolePolicy),
    write(&IAM, "UpdateAssumeRolePolicy", 0.0003, 0.9)
        .by(&[(Deploy, 1), (Admin, 1)])
        .params(Params::UpdateAssumeRolePolicy),
    write(&IAM, "CreateUser", 0.0001, 1.0)
        .by(&[(Admin, 1)])
        .params(Params::User),
    write(&IAM, "AttachUserPolicy", 0.0001, 1.0)
        .by(&[(Admin, 1)])
        .params(Params::AttachUserPolicy),
    write(&IAM, "CreateAccessKey", 0.0002, 1.0)
        .by(&[(Admin, 1), (BackupUser, 1)])
        .errors(&[err(
            "LimitExceededException",
            "Cannot exceed quota for AccessKeysPerUser: 2",
            0.1,
        )])
        .params(Params::User)
        .response(Response::CreateAccessKey),
    // Lambda (Invoke is a data event and is not simulated).
    read(&LAMBDA, "GetFunction20150331v2", 0.05, 0.7)
        .by(&[(Deploy, 2), (Admin, 1)])
        .params(Params::Function),
    read(&LAMBDA, "ListFunctions20150331", 0.05, 0.6)
        .by(&[(Admin, 1), (ReadOnly, 1), (Monitor, 1)]),
    write(&LAMBDA, "CreateFunction20150331", 0.001, 0.9)
        .by(&[(Deploy, 1)])
        .errors(&[err(
            "ResourceConflictException",
            "Function already exist: order-processor",
            0.1,
        )])
        .params(Params::CreateFunction)
        .response(Response::Function),
    write(&LAMBDA, "UpdateFunctionCode20150331v2", 0.01, 0.9)
        .by(&[(Deploy, 1)])
        .params(Params::UpdateFunctionCode)
        .response(Response::Function),
    // EC2 Auto Scaling.
    read(&AUTOSCALING, "DescribeAutoScalingGroups", 0.3, 0.1)
        .by(&[(Monitor, 2), (Deploy, 1), (Admin, 1)])
        .errors(&[err("Throttling", "Rate exceeded", 0.003)])
        .params(Params::AutoScalingGroups),
    write(&AUTOSCALING, "CompleteLifecycleAction", 0.0002, 0.3)
        .by(&[(App, 1)])
        .params(Params::LifecycleAction),
    // CloudTrail itself.
    read(&CLOUDTRAIL, "DescribeTrails", 0.05, 0.5)
        .by(&[(ConfigRole, 1), (Admin, 1), (Monitor, 1)])
        .params(Params::DescribeTrails),
    read(&CLOUDTRAIL, "LookupEvents", 0.1, 0.8)
        .by(&[(Admin, 1), (ReadOnly, 1)])
        .errors(&[err("ThrottlingException", "Rate exceeded", 0.02)])
        .params(Params::LookupEvents),
    write(&CLOUDTRAIL, "StopLogging", 0.00005, 1.0)
        .by(&[(Admin, 1)])
        .params(Params::Trail),
    // CloudWatch Logs and metrics.
    write(&LOGS, "CreateLogStream", 0.3, 0.3)
        .by(&[(Lambda, 1)])
        .errors(&[err(
            "ResourceAlreadyExistsException",
            "The specified log stream already exists",
            0.05,
        )])
        .params(Params::LogStream),
    read(&LOGS, "DescribeLogGroups", 0.1, 0.5)
        .by(&[(Admin, 1), (Monitor, 1), (Deploy, 1)])
        .params(Params::LogGroupPrefix),
    write(&LOGS, "CreateLogGroup", 0.002, 0.9)
        .by(&[(Deploy, 2), (Lambda, 1)])
        .errors(&[err(
            "ResourceAlreadyExistsException",
            "The specified log group already exists",
            0.2,
        )])
        .params(Params::LogGroup),
    read(&MONITORING, "GetMetricData", 0.4, 0.1)
        .by(&[(Monitor, 3), (Admin, 1)])
        .params(Params::GetMetricData),
    read(&MONITORING, "DescribeAlarms", 0.2, 0.3)
        .by(&[(Monitor, 1), (Admin, 1), (Deploy, 1)])
        .params(Params::MaxResults(100)),
    write(&MONITORING, "PutMetricAlarm", 0.003, 0.9)
        .by(&[(Deploy, 1)])
        .params(Params::PutMetricAlarm),
    // SNS and SQS management calls.
    read(&SNS, "GetTopicAttributes", 0.1, 0.4)
        .by(&[(Deploy, 1), (Monitor, 1)])
        .params(Params::Topic),
    read(&SNS, "ListTopics", 0.05, 0.5).by(&[(Monitor, 1), (Admin, 1)]),
    write(&SNS, "Subscribe", 0.001, 0.9)
        .by(&[(Deploy, 1)])
        .params(Params::Subscribe)
        .response(Response::Subscribe),
    read(&SQS, "ListQueues", 0.05, 0.5).by(&[(Monitor, 1), (Admin, 1)]),
    write(&SQS, "CreateQueue", 0.001, 0.9)
        .by(&[(Deploy, 1)])
        .params(Params::CreateQueue)
        .response(Response::CreateQueue),
    // Elastic Load Balancing.
    read(&ELB, "DescribeTargetHealth", 0.3, 0.1)
        .by(&[(Monitor, 3), (Deploy, 1)])
        .params(Params::TargetGroup),
    read(&ELB, "DescribeLoadBalancers", 0.1, 0.4).by(&[(Monitor, 1), (Admin, 1), (ConfigRole, 1)]),
    // ECS services, redeployed by CI releases (see `traffic::releases`).
    read(&ECS, "DescribeServices", 0.05, 0.6)
        .by(&[(Deploy, 2), (Monitor, 1)])
        .params(Params::EcsServices),
    write(&ECS, "UpdateService", 0.0005, 0.9)
        .by(&[(Deploy, 1)])
        .params(Params::EcsService),
];

/// Write APIs that Terraform deploy batches touch (normal, unlabelled bursts).
pub(crate) static DEPLOY_APIS: &[&str] = &[
    "UpdateFunctionCode20150331v2",
    "CreateTags",
    "AuthorizeSecurityGroupIngress",
    "PutRolePolicy",
    "AttachRolePolicy",
    "PutParameter",
    "CreateLogGroup",
    "PutMetricAlarm",
    "PutBucketTagging",
    "CreateRole",
];

/// APIs a nightly job calls in a batch at a fixed time of day (one per account-region).
pub(crate) static CRON_APIS: &[&str] = &["CreateSnapshot", "DeleteSnapshot"];

/// Scale-out and scale-in waves of the Auto Scaling group.
pub(crate) const SCALE_OUT_API: &str = "RunInstances";
/// See [`SCALE_OUT_API`].
pub(crate) const SCALE_IN_API: &str = "TerminateInstances";

/// Rare write APIs that an anomaly may suddenly call a few times.
pub(crate) static RARE_BURST_APIS: &[&str] = &[
    "AttachUserPolicy",
    "CreateAccessKey",
    "CompleteLifecycleAction",
    "PutBucketPolicy",
    "CreateKeyPair",
    "UpdateAssumeRolePolicy",
    "CreateUser",
    "StopLogging",
];

/// The API CI releases redeploy on workdays (normal, unlabelled bursts).
pub(crate) const RELEASE_API: &str = "UpdateService";

/// Write APIs a new principal may hammer.
pub(crate) static NEW_PRINCIPAL_APIS: &[&str] = &[
    "SendCommand",
    "CreateSecret",
    "DeleteSecret",
    "RotateSecret",
    "CreateFunction20150331",
    "CreateQueue",
];

/// Steady machine-driven write APIs (agents on a timer) whose calls may stop for a while.
pub(crate) static DROP_APIS: &[&str] = &[
    "UpdateInstanceInformation",
    "UpdateInstanceAssociationStatus",
];

/// Busy read APIs a negative control bursts (call-rate insights never count reads).
pub(crate) static READ_BURST_APIS: &[&str] = &[
    "DescribeInstances",
    "ListBuckets",
    "GetParameter",
    "DescribeSecurityGroups",
    "ListRoles",
];

/// Busy write APIs an anomaly may multiply for a while.
pub(crate) static SURGE_APIS: &[&str] = &[
    "UpdateInstanceInformation",
    "UpdateInstanceAssociationStatus",
    "CreateLogStream",
];

/// Quiet write APIs an anomaly may raise for most of an hour.
pub(crate) static QUIET_APIS: &[&str] = &[
    "SendCommand",
    "DeleteParameter",
    "RevokeSecurityGroupIngress",
    "Subscribe",
    "CreateQueue",
    "PutSecretValue",
];

/// (API, error code) pairs an error storm may hit; each code is one of the API's own errors.
/// Read and write APIs both: error-rate insights count either.
pub(crate) static ERROR_STORMS: &[(&str, &str)] = &[
    ("RunInstances", "Client.UnauthorizedOperation"),
    ("DeleteParameter", "ParameterNotFound"),
    ("PutBucketPolicy", "MalformedPolicy"),
    ("GetBucketPolicy", "AccessDenied"),
    ("DescribeInstances", "Client.UnauthorizedOperation"),
    ("AssumeRole", "AccessDenied"),
    ("GetParameter", "AccessDeniedException"),
    ("GetSecretValue", "AccessDeniedException"),
    ("Decrypt", "AccessDeniedException"),
    ("GetRole", "NoSuchEntityException"),
];

/// Index of an API in [`APIS`] by `eventName` (names are unique in the catalogue).
pub(crate) fn api_index(name: &str) -> usize {
    APIS.iter()
        .position(|api| api.name == name)
        .unwrap_or_else(|| panic!("{name} is not in the catalogue"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn has_api(name: &str) -> bool {
        APIS.iter().any(|api| api.name == name)
    }

    #[test]
    fn names_are_unique_and_lists_refer_to_catalogue_apis() {
        for (i, api) in APIS.iter().enumerate() {
            assert_eq!(api_index(api.name), i, "duplicate {}", api.name);
            assert!(
                api.rate > 0.0 && (0.0..=1.0).contains(&api.office),
                "{}",
                api.name
            );
            assert!(api.principals.iter().all(|&(_, w)| w > 0), "{}", api.name);
            let error_share: f64 = api.errors.iter().map(|e| e.rate).sum();
            assert!(error_share < 0.5, "{}", api.name);
        }
        let lists = [
            DEPLOY_APIS,
            CRON_APIS,
            RARE_BURST_APIS,
            SURGE_APIS,
            QUIET_APIS,
            &[SCALE_OUT_API, SCALE_IN_API],
        ];
        for name in lists.iter().flat_map(|list| list.iter()) {
            assert!(has_api(name), "{name}");
        }
    }

    #[test]
    fn anomaly_candidates_are_not_normal_burst_apis() {
        let normal: Vec<&str> = DEPLOY_APIS
            .iter()
            .chain(CRON_APIS)
            .copied()
            .chain([SCALE_OUT_API, SCALE_IN_API])
            .collect();
        // Error storms are exempt: their series is one error code's, which normal bursts of
        // calls do not raise.
        let normal: Vec<&str> = normal.into_iter().chain([RELEASE_API]).collect();
        let anomalous = RARE_BURST_APIS
            .iter()
            .chain(SURGE_APIS)
            .chain(QUIET_APIS)
            .chain(NEW_PRINCIPAL_APIS)
            .chain(DROP_APIS);
        for name in anomalous {
            assert!(
                !normal.contains(name),
                "{name} is both normal and anomalous"
            );
        }
    }

    #[test]
    fn read_bursts_target_read_apis() {
        for name in READ_BURST_APIS {
            assert!(APIS[api_index(name)].read_only, "{name}");
        }
    }

    #[test]
    fn call_rate_anomalies_target_write_apis() {
        // ApiCallRateInsight only counts write management events.
        for name in RARE_BURST_APIS.iter().chain(SURGE_APIS).chain(QUIET_APIS) {
            assert!(!APIS[api_index(name)].read_only, "{name}");
        }
        for name in RARE_BURST_APIS {
            assert!(APIS[api_index(name)].rate <= 0.001, "{name} is not rare");
        }
        for name in SURGE_APIS {
            assert!(APIS[api_index(name)].rate >= 0.2, "{name} is not busy");
        }
        for name in QUIET_APIS {
            let rate = APIS[api_index(name)].rate;
            assert!((0.001..=0.05).contains(&rate), "{name} is not quiet");
        }
    }

    #[test]
    fn error_storm_codes_are_api_errors() {
        for (name, code) in ERROR_STORMS {
            let api = &APIS[api_index(name)];
            assert!(api.errors.iter().any(|e| e.code == *code), "{name} {code}");
            assert!(
                api.principals.iter().any(|(p, _)| p.is_customer()),
                "{name} has nobody to be denied"
            );
        }
    }

    #[test]
    fn weekday_volume() {
        // The documented 15-25k records per day at scale 1 rests on this sum.
        let per_minute: f64 = APIS.iter().map(|api| api.rate).sum();
        assert!((14.0..17.5).contains(&per_minute), "{per_minute}");
    }
}
