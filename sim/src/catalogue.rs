//! The traffic catalogue: the services and APIs a simulated account calls, who calls them, how
//! often, how they fail, and which request shapes they carry.
//!
//! This file is data. Growing the model (more APIs, other principals, other mixes) should mostly
//! mean editing the tables below; the generator in `traffic.rs` and the record writer in
//! `record.rs` read them without knowing any API by name, except through the candidate lists at
//! the end of the file.
//!
//! Field values follow real CloudTrail records (see `shared/corpus/invictus-aws_dataset`): for
//! instance STS `AssumeRole`, EC2 `GetPasswordData` and KMS `Decrypt`/`Encrypt`/`GenerateDataKey`
//! are logged with `readOnly: true`, so they are reads here even though they feel like writes.

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

const fn service(source: &'static str, iam_prefix: &'static str, version: &'static str) -> Service {
    Service {
        source,
        iam_prefix,
        endpoint: iam_prefix,
        event_version: version,
        global: false,
        s3: false,
    }
}

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

/// Who makes a call. Each variant names one identity template (see [`Principal::spec`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Principal {
    /// Application servers: an EC2 instance role, one session per instance.
    App,
    /// The SSM agent on the same instances, with its own instance role.
    SsmAgent,
    /// Lambda functions' execution role, one session per function.
    Lambda,
    /// CI/CD: Terraform run from GitHub Actions through an OIDC role.
    Deploy,
    /// Engineers with the SSO administrator permission set, in the console or the CLI.
    Admin,
    /// Engineers with the SSO read-only permission set.
    ReadOnly,
    /// A long-lived IAM user used by CI scripts.
    CiUser,
    /// A legacy IAM user run by an on-premises backup script.
    BackupUser,
    /// A SaaS monitoring integration polling Describe APIs.
    Monitor,
    /// EC2 Auto Scaling's service-linked role.
    AsgRole,
    /// AWS Config's service-linked role.
    ConfigRole,
    /// An AWS service calling on the account's behalf (`userIdentity.type` `AWSService`).
    Svc(&'static str),
    /// An AWS service emitting an `AwsServiceEvent` (no `type`, just `invokedBy`).
    SvcEvent(&'static str),
    /// Someone never seen before: stolen credentials of the organisation's cross-account role,
    /// used from the internet with a scripting SDK. Only labelled anomalies use it.
    Intruder,
}

/// How a role's session names are chosen.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Sessions {
    /// The session is an EC2 instance id of the account-region (instance profile credentials).
    Instance,
    /// One of these names.
    Names(&'static [&'static str]),
}

/// The `userIdentity` shape of a principal.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Identity {
    /// `AssumedRole`.
    Role {
        name: &'static str,
        /// IAM path between `role/` and the name, with its trailing slash, or "".
        path: &'static str,
        sessions: Sessions,
        /// Set for service-linked roles: the service that acts.
        invoked_by: Option<&'static str>,
    },
    /// `IAMUser` with a long-term access key.
    User { name: &'static str },
    /// `AWSService`.
    Service { name: &'static str },
    /// The identity of an `AwsServiceEvent`.
    ServiceEvent { name: &'static str },
}

/// Where calls come from, for `sourceIPAddress`.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Origin {
    /// The office or VPN egress (documentation ranges, see RFC 5737).
    Office,
    /// CI runners.
    Ci,
    /// A SaaS vendor's egress.
    Saas,
    /// The public IP of the calling EC2 instance.
    Instance,
    /// Lambda's shared egress: a fresh public IP most of the time.
    Lambda,
    /// The service itself (`sourceIPAddress` is the service's DNS name).
    Service,
    /// An address on the internet the account has never seen.
    Internet,
}

/// Everything the record writer needs to know about a principal.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PrincipalSpec {
    pub(crate) identity: Identity,
    /// User agents this principal uses; empty means "the service name".
    pub(crate) agents: &'static [&'static str],
    pub(crate) origin: Origin,
}

const AWS_CLI: &str = "aws-cli/2.15.17 Python/3.11.6 Linux/6.1.72-96.166.amzn2023.x86_64 exe/x86_64.amzn.2023 prompt/off";
const AWS_CLI_MAC: &str = "aws-cli/2.15.10 Python/3.11.6 Darwin/23.3.0 exe/x86_64 prompt/off";
const BOTO3: &str = "Boto3/1.34.34 md/Botocore#1.34.34 ua/2.0 os/linux#6.1.72-96.166.amzn2023.x86_64 md/arch#x86_64 lang/python#3.11.6 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.34";
const GO_V2: &str =
    "aws-sdk-go-v2/1.24.1 os/linux lang/go#1.21.6 md/GOOS#linux md/GOARCH#amd64 exec-env/EC2";
const SSM_AGENT: &str = "aws-sdk-go/1.44.260 (go1.20.12; linux; amd64) amazon-ssm-agent/";
const LAMBDA_PY: &str = "Boto3/1.34.42 md/Botocore#1.34.42 ua/2.0 os/linux#5.10.209-219.844.amzn2.x86_64 md/arch#x86_64 lang/python#3.12.2 md/pyimpl#CPython exec-env/AWS_Lambda_python3.12 cfg/retry-mode#legacy Botocore/1.34.42";
const LAMBDA_NODE: &str = "aws-sdk-js/3.515.0 ua/2.0 os/linux#5.10.209-219.844.amzn2.x86_64 lang/js md/nodejs#20.11.0 exec-env/AWS_Lambda_nodejs20.x api/secrets-manager#3.515.0";
const TERRAFORM: &str = "APN/1.0 HashiCorp/1.0 Terraform/1.7.3 (+https://www.terraform.io) terraform-provider-aws/5.36.0 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.24.1 os/linux lang/go#1.21.6 md/GOOS#linux md/GOARCH#amd64";
const CONSOLE: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/121.0.0.0 Safari/537.36";
const AWS_INTERNAL: &str = "AWS Internal";
const MONITOR_GO: &str = "aws-sdk-go/1.50.10 (go1.21.6; linux; amd64) datadog-aws-integration";
const KALI_BOTO3: &str = "Boto3/1.28.57 md/Botocore#1.31.57 ua/2.0 os/linux#6.5.0-kali3-amd64 md/arch#x86_64 lang/python#3.11.8 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.31.57";

/// The user agent a browser console session shows; such calls also carry
/// `sessionCredentialFromConsole`.
pub(crate) fn is_console_agent(agent: &str) -> bool {
    agent == CONSOLE || agent == AWS_INTERNAL
}

const SSO_PATH: &str = "aws-reserved/sso.amazonaws.com/";

impl Principal {
    /// The identity template of this principal.
    pub(crate) fn spec(self) -> PrincipalSpec {
        use Principal as P;
        let role = |name, path, sessions| Identity::Role {
            name,
            path,
            sessions,
            invoked_by: None,
        };
        match self {
            P::App => PrincipalSpec {
                identity: role("app-server", "", Sessions::Instance),
                agents: &[BOTO3, GO_V2],
                origin: Origin::Instance,
            },
            P::SsmAgent => PrincipalSpec {
                identity: role(
                    "AmazonSSMRoleForInstancesQuickSetup",
                    "",
                    Sessions::Instance,
                ),
                agents: &[SSM_AGENT],
                origin: Origin::Instance,
            },
            P::Lambda => PrincipalSpec {
                identity: role("order-processor-role", "", Sessions::Names(FUNCTIONS)),
                agents: &[LAMBDA_PY, LAMBDA_NODE],
                origin: Origin::Lambda,
            },
            P::Deploy => PrincipalSpec {
                identity: role(
                    "github-actions-deploy",
                    "",
                    Sessions::Names(&["GitHubActions"]),
                ),
                agents: &[TERRAFORM],
                origin: Origin::Ci,
            },
            P::Admin => PrincipalSpec {
                identity: role(
                    "AWSReservedSSO_AdministratorAccess_5f1e2d3c4b5a6978",
                    SSO_PATH,
                    Sessions::Names(&["alice@example.com", "bob@example.com"]),
                ),
                agents: &[CONSOLE, CONSOLE, AWS_INTERNAL, AWS_CLI_MAC],
                origin: Origin::Office,
            },
            P::ReadOnly => PrincipalSpec {
                identity: role(
                    "AWSReservedSSO_ReadOnlyAccess_0a1b2c3d4e5f6789",
                    SSO_PATH,
                    Sessions::Names(&["carol@example.com", "dave@example.com", "erin@example.com"]),
                ),
                agents: &[CONSOLE, AWS_CLI_MAC],
                origin: Origin::Office,
            },
            P::CiUser => PrincipalSpec {
                identity: Identity::User { name: "ci-bot" },
                agents: &[AWS_CLI, BOTO3],
                origin: Origin::Ci,
            },
            P::BackupUser => PrincipalSpec {
                identity: Identity::User {
                    name: "legacy-backup",
                },
                agents: &[AWS_CLI],
                origin: Origin::Office,
            },
            P::Monitor => PrincipalSpec {
                identity: role(
                    "DatadogIntegrationRole",
                    "",
                    Sessions::Names(&["DatadogAWSIntegration"]),
                ),
                agents: &[MONITOR_GO],
                origin: Origin::Saas,
            },
            P::AsgRole => PrincipalSpec {
                identity: Identity::Role {
                    name: "AWSServiceRoleForAutoScaling",
                    path: "aws-service-role/autoscaling.amazonaws.com/",
                    sessions: Sessions::Names(&["AutoScaling"]),
                    invoked_by: Some("autoscaling.amazonaws.com"),
                },
                agents: &[],
                origin: Origin::Service,
            },
            P::ConfigRole => PrincipalSpec {
                identity: Identity::Role {
                    name: "AWSServiceRoleForConfig",
                    path: "aws-service-role/config.amazonaws.com/",
                    sessions: Sessions::Names(&["AWSConfig-Describe"]),
                    invoked_by: Some("config.amazonaws.com"),
                },
                agents: &[],
                origin: Origin::Service,
            },
            P::Svc(name) => PrincipalSpec {
                identity: Identity::Service { name },
                agents: &[],
                origin: Origin::Service,
            },
            P::SvcEvent(name) => PrincipalSpec {
                identity: Identity::ServiceEvent { name },
                agents: &[],
                origin: Origin::Service,
            },
            P::Intruder => PrincipalSpec {
                identity: role(
                    "OrganizationAccountAccessRole",
                    "",
                    Sessions::Names(&["botocore-session-1710249000"]),
                ),
                agents: &[KALI_BOTO3],
                origin: Origin::Internet,
            },
        }
    }

    /// Whether a person or a workload of the account (not an AWS service) makes the call.
    pub(crate) fn is_customer(self) -> bool {
        !matches!(
            self,
            Principal::Svc(_) | Principal::SvcEvent(_) | Principal::AsgRole | Principal::ConfigRole
        )
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

const fn err(code: &'static str, message: &'static str, rate: f64) -> ApiError {
    ApiError {
        code,
        message: ErrorMessage::Text(message),
        rate,
    }
}

const fn denied(code: &'static str, rate: f64) -> ApiError {
    ApiError {
        code,
        message: ErrorMessage::NotAuthorized,
        rate,
    }
}

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

const fn read(service: &'static Service, name: &'static str, rate: f64, office: f64) -> Api {
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

const fn write(service: &'static Service, name: &'static str, rate: f64, office: f64) -> Api {
    Api {
        read_only: false,
        ..read(service, name, rate, office)
    }
}

impl Api {
    const fn by(self, principals: &'static [(Principal, u32)]) -> Api {
        Api { principals, ..self }
    }

    const fn errors(self, errors: &'static [ApiError]) -> Api {
        Api { errors, ..self }
    }

    const fn params(self, params: Params) -> Api {
        Api { params, ..self }
    }

    const fn response(self, response: Response) -> Api {
        Api { response, ..self }
    }

    const fn heartbeat(self, heartbeat_minutes: u32) -> Api {
        Api {
            heartbeat_minutes,
            ..self
        }
    }
}

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

/// Names of Lambda functions; also the Lambda role's session names.
pub(crate) static FUNCTIONS: &[&str] = &[
    "order-processor",
    "thumbnailer",
    "nightly-report",
    "auth-authorizer",
];
/// Workload roles that `AssumeRole`, `GetRole` and friends refer to.
pub(crate) static ROLES: &[&str] = &[
    "app-server",
    "order-processor-role",
    "github-actions-deploy",
    "DatadogIntegrationRole",
    "reporting-readonly",
];
/// IAM users that user-management calls refer to.
pub(crate) static USERS: &[&str] = &["ci-bot", "legacy-backup", "contractor-xyz"];
/// SSM parameter names.
pub(crate) static PARAMETERS: &[&str] = &[
    "/prod/app/db-host",
    "/prod/app/db-port",
    "/prod/app/feature-flags",
    "/prod/orders/queue-url",
    "/shared/datadog/api-key",
];
/// Secrets Manager secret names.
pub(crate) static SECRETS_NAMES: &[&str] = &[
    "prod/app/db-master",
    "prod/orders/stripe-key",
    "prod/reports/smtp",
];
/// Bucket name stems; the account id is appended.
pub(crate) static BUCKETS: &[&str] = &["assets", "backups", "reports", "terraform-state"];
/// SNS topics.
pub(crate) static TOPICS: &[&str] = &["alerts", "orders-events"];
/// SQS queues.
pub(crate) static QUEUES: &[&str] = &["orders", "orders-dlq", "thumbnails"];

/// ECS services of the production cluster.
pub(crate) static ECS_SERVICES: &[&str] = &["web", "api", "worker", "scheduler"];
/// Managed policies attached by IAM calls.
pub(crate) static POLICIES: &[&str] = &[
    "arn:aws:iam::aws:policy/ReadOnlyAccess",
    "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess",
    "arn:aws:iam::aws:policy/AdministratorAccess",
];

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
