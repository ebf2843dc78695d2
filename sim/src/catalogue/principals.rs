//! Who calls: the principals of a simulated account, each an identity template with its user
//! agents and where its calls come from.

use super::names::FUNCTIONS;

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
