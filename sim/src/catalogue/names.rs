//! The names of a simulated account's resources that records refer to (functions, roles,
//! buckets, queues...). This file is data.

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
/// The trail every record is delivered by.
pub(crate) const TRAIL_NAME: &str = "management-events";
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
