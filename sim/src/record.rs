//! What a call looks like: one CloudTrail record, written as compact JSON with its fields in the
//! order AWS writes them (`eventVersion` first, `tlsDetails` last).
//!
//! Every random detail (principal, session, user agent, error, resource, ids) is drawn from an
//! RNG seeded by the event's own seed, so the same event always gives the same bytes.

use rand::{Rng, RngExt, SeedableRng};
use rand_pcg::Pcg64Mcg;
use trailsight_engine::time::Timestamp;

use crate::catalogue::{
    APIS, Api, ApiError, BUCKETS, ECS_SERVICES, ErrorMessage, FUNCTIONS, Identity, Origin,
    PARAMETERS, POLICIES, Params, Principal, QUEUES, ROLES, Response, SECRETS_NAMES, Sessions,
    TOPICS, USERS, is_console_agent,
};
use crate::ids;
use crate::json::{Obj, object};
use crate::profile::Profile;
use crate::traffic::{ErrorChoice, Event, pick_weighted};

/// The office and VPN egress addresses people call from (RFC 5737 documentation ranges).
const OFFICE_IPS: &[&str] = &["203.0.113.24", "203.0.113.25", "198.51.100.77"];

/// The trail every record is delivered by.
pub(crate) const TRAIL_NAME: &str = "management-events";

/// Policy document used by IAM write calls; a JSON text inside a JSON string, as AWS logs it.
const TRUST_POLICY: &str = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"Service\":\"ec2.amazonaws.com\"},\"Action\":\"sts:AssumeRole\"}]}";
const INLINE_POLICY: &str = "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\n      \"Effect\": \"Allow\",\n      \"Action\": [\"s3:GetObject\", \"s3:PutObject\"],\n      \"Resource\": \"arn:aws:s3:::acme-assets-*/*\"\n    }\n  ]\n}";

/// The resolved caller of one record.
struct Caller {
    principal: Principal,
    /// `userIdentity.arn`, when the identity has one.
    arn: Option<String>,
    session: String,
    /// The instance behind an instance-profile session, else a random one for parameters.
    instance: usize,
    agent: &'static str,
    source_ip: String,
    /// The acting service, for service-linked roles and AWS services.
    service: Option<&'static str>,
}

/// Everything the field writers share for one record.
struct Ctx<'a> {
    profile: &'a Profile,
    api: &'static Api,
    time: i64,
    /// Chooses among the account's resources, so parameters, response and `resources` agree.
    pick: usize,
    caller: Caller,
}

impl Ctx<'_> {
    fn account(&self) -> &str {
        &self.profile.account
    }

    fn region(&self) -> &str {
        &self.profile.region
    }

    fn choose<'s>(&self, list: &[&'s str]) -> &'s str {
        list[self.pick % list.len()]
    }

    fn instance_id(&self) -> &str {
        &self.profile.instances[self.caller.instance].id
    }

    fn bucket(&self) -> String {
        format!("acme-{}-{}", self.choose(BUCKETS), self.account())
    }

    fn key_arn(&self) -> String {
        let key = &self.profile.keys[self.pick % self.profile.keys.len()];
        format!("arn:aws:kms:{}:{}:key/{key}", self.region(), self.account())
    }

    fn role_arn(&self, role: &str) -> String {
        format!("arn:aws:iam::{}:role/{role}", self.account())
    }

    fn secret_arn(&self) -> String {
        let name = self.choose(SECRETS_NAMES);
        // Secrets Manager appends 6 random characters to a secret's ARN, fixed per secret.
        let mut suffix = String::new();
        ids::push_base32_of(
            &mut suffix,
            ids::hash_str(&format!("{name}{}", self.account())),
            6,
        );
        format!(
            "arn:aws:secretsmanager:{}:{}:secret:{name}-{suffix}",
            self.region(),
            self.account()
        )
    }

    fn function(&self) -> &'static str {
        FUNCTIONS[self.pick % FUNCTIONS.len()]
    }

    fn topic_arn(&self) -> String {
        format!(
            "arn:aws:sns:{}:{}:{}",
            self.region(),
            self.account(),
            self.choose(TOPICS)
        )
    }

    fn host(&self) -> String {
        let service = self.api.service;
        if service.global {
            format!("{}.amazonaws.com", service.endpoint)
        } else if service.s3 && !matches!(self.api.params, Params::S3Service) {
            format!("{}.s3.{}.amazonaws.com", self.bucket(), self.region())
        } else {
            format!("{}.{}.amazonaws.com", service.endpoint, self.region())
        }
    }

    /// The session name an `AssumeRole` call asks for: EC2 names instance-profile sessions after
    /// the instance, Lambda after the function, SDKs after the time.
    fn new_session(&self) -> String {
        match self.caller.principal {
            Principal::Svc("ec2.amazonaws.com") => self.instance_id().to_string(),
            Principal::Svc("lambda.amazonaws.com") => self.function().to_string(),
            _ => format!("botocore-session-{}", self.time - 2),
        }
    }

    fn private_dns(&self) -> String {
        let (x, y) = self.profile.instances[self.caller.instance].private;
        if self.region() == "us-east-1" {
            format!("ip-10-0-{x}-{y}.ec2.internal")
        } else {
            format!("ip-10-0-{x}-{y}.{}.compute.internal", self.region())
        }
    }
}

/// Appends the JSON record of `event` to `out`.
pub(crate) fn write_record(out: &mut String, event: &Event, profile: &Profile) {
    let api = &APIS[usize::from(event.api)];
    let mut rng = Pcg64Mcg::seed_from_u64(event.seed);
    let principal = event
        .principal
        .unwrap_or_else(|| pick_weighted(&mut rng, api.principals));
    let caller = resolve_caller(principal, profile, &mut rng);
    let error = match event.error {
        ErrorChoice::Forced(i) => Some(&api.errors[usize::from(i)]),
        ErrorChoice::Sampled => roll_error(api.errors, &mut rng),
        ErrorChoice::Never => None,
    };
    let cx = Ctx {
        profile,
        api,
        time: event.time,
        pick: rng.random_range(0..1 << 20),
        caller,
    };
    let spec = principal.spec();
    let service_event = matches!(spec.identity, Identity::ServiceEvent { .. });

    object(out, |r| {
        r.str("eventVersion", api.service.event_version);
        r.obj("userIdentity", |u| user_identity(u, &cx, &mut rng));
        r.fmt("eventTime", format_args!("{}", Timestamp(event.time)));
        r.str("eventSource", api.service.source);
        r.str("eventName", api.name);
        r.str("awsRegion", cx.region());
        r.str("sourceIPAddress", &cx.caller.source_ip);
        r.str("userAgent", cx.caller.agent);
        if let Some(error) = error {
            r.str("errorCode", error.code);
            error_message(r, error, &cx, &mut rng);
        }
        request_parameters(r, &cx, &mut rng);
        if error.is_none() {
            response_elements(r, &cx, &mut rng);
        } else {
            r.null("responseElements");
        }
        additional_event_data(r, &cx, &mut rng);
        if api.service.s3 {
            let mut id = String::with_capacity(16);
            ids::push_base32(&mut id, &mut rng, 16);
            r.str("requestID", &id);
        } else {
            r.str("requestID", &ids::uuid(&mut rng));
        }
        r.str("eventID", &ids::uuid(&mut rng));
        r.bool("readOnly", api.read_only);
        resources(r, &cx);
        r.str(
            "eventType",
            if service_event {
                "AwsServiceEvent"
            } else {
                "AwsApiCall"
            },
        );
        r.bool("managementEvent", true);
        r.str("recipientAccountId", cx.account());
        r.str("eventCategory", "Management");
        // Calls that a service makes on its own behalf carry no TLS details.
        if cx.caller.service.is_none() {
            r.obj("tlsDetails", |t| {
                if rng.random_bool(0.8) {
                    t.str("tlsVersion", "TLSv1.3");
                    t.str("cipherSuite", "TLS_AES_128_GCM_SHA256");
                } else {
                    t.str("tlsVersion", "TLSv1.2");
                    t.str("cipherSuite", "ECDHE-RSA-AES128-GCM-SHA256");
                }
                t.str("clientProvidedHostHeader", &cx.host());
            });
        }
        if is_console_agent(cx.caller.agent) && principal.is_customer() {
            r.str("sessionCredentialFromConsole", "true");
        }
    });
}

fn roll_error(errors: &'static [ApiError], rng: &mut impl Rng) -> Option<&'static ApiError> {
    if errors.is_empty() {
        return None;
    }
    let mut roll = rng.random::<f64>();
    for error in errors {
        if roll < error.rate {
            return Some(error);
        }
        roll -= error.rate;
    }
    None
}

fn resolve_caller(principal: Principal, profile: &Profile, rng: &mut impl Rng) -> Caller {
    let spec = principal.spec();
    let account = &profile.account;
    let mut instance = rng.random_range(0..profile.instances.len());
    let (arn, session, service) = match spec.identity {
        Identity::Role {
            name,
            sessions,
            invoked_by,
            ..
        } => {
            let session = match sessions {
                Sessions::Instance => profile.instances[instance].id.clone(),
                Sessions::Names(names) => {
                    let mut session = names[rng.random_range(0..names.len())].to_string();
                    if session == "GitHubActions" {
                        // GitHub's OIDC sessions are "GitHubActions" plus nothing; Terraform runs
                        // from laptops use the botocore default with a timestamp.
                        session.push('-');
                        ids::push_base32(&mut session, rng, 6);
                    }
                    session
                }
            };
            let arn = format!("arn:aws:sts::{account}:assumed-role/{name}/{session}");
            (Some(arn), session, invoked_by)
        }
        Identity::User { name } => {
            let arn = format!("arn:aws:iam::{account}:user/{name}");
            (Some(arn), name.to_string(), None)
        }
        Identity::Service { name } | Identity::ServiceEvent { name } => {
            (None, String::new(), Some(name))
        }
    };
    if !matches!(spec.origin, Origin::Instance) {
        instance = rng.random_range(0..profile.instances.len());
    }
    let agent = match (spec.agents, service) {
        ([], Some(service)) => service,
        ([], None) => "AWS Internal",
        (agents, _) => agents[rng.random_range(0..agents.len())],
    };
    let source_ip = match spec.origin {
        Origin::Office => OFFICE_IPS[rng.random_range(0..OFFICE_IPS.len())].to_string(),
        Origin::Ci => format!("192.0.2.{}", rng.random_range(1..127u8)),
        Origin::Saas => format!("192.0.2.{}", rng.random_range(129..255u8)),
        Origin::Instance => profile.instances[instance].public_ip.clone(),
        Origin::Lambda => format!(
            "44.{}.{}.{}",
            rng.random_range(192..224u8),
            rng.random_range(0..=255u8),
            rng.random_range(1..255u8)
        ),
        Origin::Service => service.unwrap_or("AWS Internal").to_string(),
        Origin::Internet => format!("203.0.113.{}", rng.random_range(1..255u8)),
    };
    Caller {
        principal,
        arn,
        session,
        instance,
        agent,
        source_ip,
        service,
    }
}

fn unique_id(prefix: &str, chunk: &str, name: &str, salt: &str, n: usize) -> String {
    let mut id = String::with_capacity(prefix.len() + chunk.len() + n);
    id.push_str(prefix);
    id.push_str(chunk);
    ids::push_base32_of(&mut id, ids::hash_str(&format!("{name}/{salt}")), n);
    id
}

fn user_identity(u: &mut Obj<'_>, cx: &Ctx<'_>, rng: &mut impl Rng) {
    let account = cx.account();
    let chunk = &cx.profile.account_chunk;
    match cx.caller.principal.spec().identity {
        Identity::Role {
            name,
            path,
            sessions,
            invoked_by,
        } => {
            let role_id = unique_id("AROA", chunk, name, "role", 9);
            u.str("type", "AssumedRole");
            u.fmt(
                "principalId",
                format_args!("{role_id}:{}", cx.caller.session),
            );
            u.opt_str("arn", cx.caller.arn.as_deref());
            u.str("accountId", account);
            if invoked_by.is_none() {
                let mut key = String::from("ASIA");
                key.push_str(chunk);
                ids::push_base32(&mut key, rng, 8);
                u.str("accessKeyId", &key);
            }
            u.obj("sessionContext", |s| {
                s.obj("sessionIssuer", |i| {
                    i.str("type", "Role");
                    i.str("principalId", &role_id);
                    i.fmt(
                        "arn",
                        format_args!("arn:aws:iam::{account}:role/{path}{name}"),
                    );
                    i.str("accountId", account);
                    i.str("userName", name);
                });
                s.obj("webIdFederationData", |_| {});
                s.obj("attributes", |a| {
                    // Sessions last an hour: the session began up to an hour before the call.
                    let created = cx.time - rng.random_range(0..3600);
                    a.fmt("creationDate", format_args!("{}", Timestamp(created)));
                    a.str("mfaAuthenticated", "false");
                });
                if matches!(sessions, Sessions::Instance) {
                    s.str("ec2RoleDelivery", "2.0");
                }
            });
            if let Some(service) = invoked_by {
                u.str("invokedBy", service);
            }
        }
        Identity::User { name } => {
            u.str("type", "IAMUser");
            u.str("principalId", &unique_id("AIDA", chunk, name, "user", 9));
            u.opt_str("arn", cx.caller.arn.as_deref());
            u.str("accountId", account);
            u.str("accessKeyId", &unique_id("AKIA", chunk, name, "key", 8));
            u.str("userName", name);
        }
        Identity::Service { name } => {
            u.str("type", "AWSService");
            u.str("invokedBy", name);
        }
        Identity::ServiceEvent { name } => {
            u.str("accountId", account);
            u.str("invokedBy", name);
        }
    }
}

fn error_message(r: &mut Obj<'_>, error: &ApiError, cx: &Ctx<'_>, rng: &mut impl Rng) {
    let action = format_args!("{}:{}", cx.api.service.iam_prefix, cx.api.name);
    // AWS names a service caller by its service principal.
    let who = cx
        .caller
        .arn
        .as_deref()
        .or(cx.caller.service)
        .unwrap_or("anonymous");
    match error.message {
        ErrorMessage::Text(text) => r.str("errorMessage", text),
        ErrorMessage::NotAuthorized => r.fmt(
            "errorMessage",
            format_args!(
                "User: {who} is not authorized to perform: {action} because no identity-based policy allows the {action} action"
            ),
        ),
        ErrorMessage::Ec2NotAuthorized => {
            let mut encoded = String::with_capacity(120);
            ids::push_alnum(&mut encoded, rng, 120);
            r.fmt(
                "errorMessage",
                format_args!(
                    "You are not authorized to perform this operation. User: {who} is not authorized to perform: {action} because no identity-based policy allows the {action} action. Encoded authorization failure message: {encoded}"
                ),
            );
        }
    }
}

fn request_parameters(r: &mut Obj<'_>, cx: &Ctx<'_>, rng: &mut impl Rng) {
    let account = cx.account();
    let region = cx.region();
    let params = cx.api.params;
    if matches!(params, Params::Null | Params::SecretEvent) {
        r.null("requestParameters");
        return;
    }
    r.obj("requestParameters", |p| match params {
        Params::Null | Params::SecretEvent => {}
        Params::AssumeRole => {
            let role = cx.choose(ROLES);
            p.str("roleArn", &cx.role_arn(role));
            p.str("roleSessionName", &cx.new_session());
            p.int("durationSeconds", 3600);
        }
        Params::KmsKey { data_key: false } => {
            p.str("keyId", &cx.key_arn());
            p.str("encryptionAlgorithm", "SYMMETRIC_DEFAULT");
        }
        Params::KmsKey { data_key: true } => {
            p.str("keyId", "alias/app-data");
            p.str("keySpec", "AES_256");
        }
        Params::Ec2VpcFilter => p.obj("filterSet", |f| {
            f.arr("items", |items| {
                items.obj(|item| {
                    item.str("name", "vpc-id");
                    item.obj("valueSet", |v| {
                        v.arr("items", |vs| vs.obj(|x| x.str("value", &cx.profile.vpc)));
                    });
                });
            });
        }),
        Params::InstanceSet => p.obj("instancesSet", |s| {
            s.arr("items", |items| {
                items.obj(|i| i.str("instanceId", cx.instance_id()))
            });
        }),
        Params::Instance => p.str("instanceId", cx.instance_id()),
        Params::RunInstances => {
            p.obj("instancesSet", |s| {
                s.arr("items", |items| {
                    items.obj(|i| {
                        i.str("imageId", &cx.profile.image);
                        i.int("minCount", 1);
                        i.int("maxCount", 1);
                    });
                });
            });
            p.str("instanceType", "t3.medium");
            p.obj("blockDeviceMapping", |_| {});
            p.obj("monitoring", |m| m.bool("enabled", false));
            p.bool("disableApiTermination", false);
            p.bool("disableApiStop", false);
            p.str("clientToken", &ids::uuid(rng));
            p.obj("launchTemplate", |l| {
                l.str("launchTemplateId", &cx.profile.launch_template);
                l.str("version", "7");
            });
        }
        Params::CreateTags => {
            p.obj("resourcesSet", |s| {
                s.arr("items", |items| {
                    items.obj(|i| i.str("resourceId", cx.instance_id()))
                });
            });
            p.obj("tagSet", |s| {
                s.arr("items", |items| {
                    items.obj(|t| {
                        t.str("key", "Name");
                        t.fmt("value", format_args!("web-{}", cx.caller.instance + 1));
                    });
                });
            });
        }
        Params::SecurityGroupRule => {
            let groups = &cx.profile.security_groups;
            p.str("groupId", &groups[cx.pick % groups.len()]);
            p.obj("ipPermissions", |perms| {
                perms.arr("items", |items| {
                    items.obj(|i| {
                        i.str("ipProtocol", "tcp");
                        i.int("fromPort", 443);
                        i.int("toPort", 443);
                        i.obj("groups", |_| {});
                        i.obj("ipRanges", |ranges| {
                            ranges.arr("items", |rs| rs.obj(|c| c.str("cidrIp", "10.0.0.0/16")));
                        });
                        i.obj("ipv6Ranges", |_| {});
                        i.obj("prefixListIds", |_| {});
                    });
                });
            });
        }
        Params::CreateSnapshot => {
            p.str("volumeId", &cx.profile.instances[cx.caller.instance].volume);
            p.fmt(
                "description",
                format_args!("nightly backup of {}", cx.instance_id()),
            );
        }
        Params::DeleteSnapshot => {
            let mut snapshot = String::from("snap-0");
            ids::push_hex_random(&mut snapshot, rng, 16);
            p.str("snapshotId", &snapshot);
        }
        Params::CreateKeyPair => {
            p.fmt("keyName", format_args!("ops-{}", cx.time));
            p.str("keyType", "rsa");
            p.str("keyFormat", "pem");
        }
        Params::SsmAgent => {
            let instance = &cx.profile.instances[cx.caller.instance];
            let (x, y) = instance.private;
            p.str("instanceId", &instance.id);
            p.str("agentVersion", "3.2.2016.0");
            p.str("agentStatus", "Active");
            p.str("platformType", "Linux");
            p.str("platformName", "Amazon Linux");
            p.str("platformVersion", "2023");
            p.fmt("iPAddress", format_args!("10.0.{x}.{y}"));
            p.str("computerName", &cx.private_dns());
            p.str("agentName", "amazon-ssm-agent");
            p.fmt(
                "availabilityZone",
                format_args!("{region}{}", instance.zone),
            );
        }
        Params::AssociationStatus => {
            p.str("associationId", &ids::uuid(rng));
            p.str("instanceId", cx.instance_id());
            p.obj("executionResult", |e| {
                e.str("status", "Success");
                let mut date = String::new();
                ids::push_us_time(&mut date, cx.time - 1);
                e.str("executionDate", &date);
                e.str(
                    "executionSummary",
                    "1 out of 1 plugin processed, 1 success, 0 failed, 0 timedout, 0 skipped. ",
                );
            });
        }
        Params::InstanceAssociations => {
            p.str("instanceId", cx.instance_id());
            p.int("maxResults", 20);
        }
        Params::Parameter => {
            p.str("name", cx.choose(PARAMETERS));
            p.bool("withDecryption", true);
        }
        Params::PutParameter => {
            p.str("name", cx.choose(PARAMETERS));
            p.str("type", "SecureString");
            p.str("keyId", "alias/aws/ssm");
            p.bool("overwrite", true);
            p.str("tier", "Standard");
        }
        Params::MaxResults(n) => p.int("maxResults", n),
        Params::SendCommand => {
            p.arr("instanceIds", |a| a.str(cx.instance_id()));
            p.str("documentName", "AWS-RunShellScript");
            p.str("parameters", "HIDDEN_DUE_TO_SECURITY_REASONS");
            p.bool("interactive", false);
        }
        Params::Secret => p.str("secretId", &cx.secret_arn()),
        Params::CreateSecret => {
            p.str("name", cx.choose(SECRETS_NAMES));
            p.str("clientRequestToken", &ids::uuid(rng));
            p.str("description", "");
            p.str("kmsKeyId", "alias/app-data");
            p.bool("forceOverwriteReplicaSecret", false);
        }
        Params::SecretWithToken => {
            p.str("secretId", &cx.secret_arn());
            p.str("clientRequestToken", &ids::uuid(rng));
        }
        Params::Bucket(subresource) => {
            let bucket = cx.bucket();
            p.str("bucketName", &bucket);
            p.fmt("Host", format_args!("{bucket}.s3.{region}.amazonaws.com"));
            p.str(subresource, "");
        }
        Params::S3Service => p.fmt("Host", format_args!("s3.{region}.amazonaws.com")),
        Params::Role => p.str("roleName", cx.choose(ROLES)),
        Params::PutRolePolicy => {
            let role = cx.choose(ROLES);
            p.str("roleName", role);
            p.fmt("policyName", format_args!("{role}-inline"));
            p.str("policyDocument", INLINE_POLICY);
        }
        Params::AttachRolePolicy => {
            p.str("roleName", cx.choose(ROLES));
            p.str("policyArn", cx.choose(POLICIES));
        }
        Params::CreateRole => {
            p.str("roleName", cx.choose(ROLES));
            p.str("assumeRolePolicyDocument", TRUST_POLICY);
        }
        Params::UpdateAssumeRolePolicy => {
            p.str("roleName", cx.choose(ROLES));
            p.str("policyDocument", TRUST_POLICY);
        }
        Params::User => p.str("userName", cx.choose(USERS)),
        Params::AttachUserPolicy => {
            p.str("userName", cx.choose(USERS));
            p.str("policyArn", cx.choose(POLICIES));
        }
        Params::Function => p.str("functionName", cx.function()),
        Params::CreateFunction => {
            p.str("functionName", cx.function());
            p.str("runtime", "python3.12");
            p.str("role", &cx.role_arn("order-processor-role"));
            p.str("handler", "app.handler");
            p.obj("code", |_| {});
            p.int("timeout", 30);
            p.int("memorySize", 256);
            p.bool("publish", false);
        }
        Params::UpdateFunctionCode => {
            p.str("functionName", cx.function());
            p.bool("publish", true);
            p.bool("dryRun", false);
        }
        Params::LifecycleAction => {
            p.str("lifecycleHookName", "drain-connections");
            p.str("autoScalingGroupName", "web-asg");
            p.str("lifecycleActionResult", "CONTINUE");
            p.str("instanceId", cx.instance_id());
        }
        Params::AutoScalingGroups => p.arr("autoScalingGroupNames", |a| {
            a.str("web-asg");
            a.str("worker-asg");
        }),
        Params::Trail => p.fmt(
            "name",
            format_args!("arn:aws:cloudtrail:{region}:{account}:trail/{TRAIL_NAME}"),
        ),
        Params::DescribeTrails => {
            p.arr("trailNameList", |_| {});
            p.bool("includeShadowTrails", true);
        }
        Params::LookupEvents => {
            p.arr("lookupAttributes", |a| {
                a.obj(|attr| {
                    attr.str("attributeKey", "EventName");
                    attr.str("attributeValue", "ConsoleLogin");
                });
            });
            p.int("maxResults", 50);
        }
        Params::LogStream => {
            let (y, m, d, ..) = ids::civil(cx.time);
            let mut stream = format!("{y:04}/{m:02}/{d:02}/[$LATEST]");
            ids::push_hex_random(&mut stream, rng, 32);
            p.fmt(
                "logGroupName",
                format_args!("/aws/lambda/{}", cx.function()),
            );
            p.str("logStreamName", &stream);
        }
        Params::LogGroup => p.fmt(
            "logGroupName",
            format_args!("/aws/lambda/{}", cx.function()),
        ),
        Params::LogGroupPrefix => p.str("logGroupNamePrefix", "/aws/lambda/"),
        Params::GetMetricData => {
            p.arr("metricDataQueries", |queries| {
                queries.obj(|q| {
                    q.str("id", "m1");
                    q.obj("metricStat", |stat| {
                        stat.obj("metric", |metric| {
                            metric.str("namespace", "AWS/EC2");
                            metric.str("metricName", "CPUUtilization");
                            metric.arr("dimensions", |dims| {
                                dims.obj(|dim| {
                                    dim.str("name", "InstanceId");
                                    dim.str("value", cx.instance_id());
                                });
                            });
                        });
                        stat.int("period", 60);
                        stat.str("stat", "Average");
                    });
                    q.bool("returnData", true);
                });
            });
            let end = cx.time - cx.time.rem_euclid(60);
            p.fmt("startTime", format_args!("{}", Timestamp(end - 600)));
            p.fmt("endTime", format_args!("{}", Timestamp(end)));
        }
        Params::PutMetricAlarm => {
            p.fmt("alarmName", format_args!("{}-errors", cx.function()));
            p.str("metricName", "Errors");
            p.str("namespace", "AWS/Lambda");
            p.str("statistic", "Sum");
            p.int("period", 300);
            p.int("evaluationPeriods", 1);
            p.float("threshold", 1.0);
            p.str("comparisonOperator", "GreaterThanOrEqualToThreshold");
            p.arr("alarmActions", |a| a.str(&cx.topic_arn()));
        }
        Params::Topic => p.str("topicArn", &cx.topic_arn()),
        Params::Subscribe => {
            p.str("topicArn", &cx.topic_arn());
            p.str("protocol", "sqs");
            p.fmt(
                "endpoint",
                format_args!("arn:aws:sqs:{region}:{account}:{}", cx.choose(QUEUES)),
            );
            p.bool("returnSubscriptionArn", false);
        }
        Params::CreateQueue => {
            p.str("queueName", cx.choose(QUEUES));
            p.obj("attributes", |a| a.str("MessageRetentionPeriod", "1209600"));
        }
        Params::EcsService => {
            p.str("cluster", "production");
            p.str("service", cx.choose(ECS_SERVICES));
            p.bool("forceNewDeployment", true);
        }
        Params::EcsServices => {
            p.str("cluster", "production");
            p.arr("services", |a| a.str(cx.choose(ECS_SERVICES)));
        }
        Params::TargetGroup => p.fmt(
            "targetGroupArn",
            format_args!(
                "arn:aws:elasticloadbalancing:{region}:{account}:targetgroup/web-tg/{}",
                cx.profile.target_group
            ),
        ),
    });
}

fn response_elements(r: &mut Obj<'_>, cx: &Ctx<'_>, rng: &mut impl Rng) {
    let account = cx.account();
    let region = cx.region();
    let response = cx.api.response;
    if matches!(response, Response::Null) {
        r.null("responseElements");
        return;
    }
    let request_id = ids::uuid(rng);
    let mut us_time = String::new();
    r.obj("responseElements", |e| match response {
        Response::Null => {}
        Response::AssumeRole => {
            let role = cx.choose(ROLES);
            let session = cx.new_session();
            e.obj("credentials", |c| {
                let mut key = String::from("ASIA");
                key.push_str(&cx.profile.account_chunk);
                ids::push_base32(&mut key, rng, 8);
                c.str("accessKeyId", &key);
                let mut token = String::from("IQoJb3JpZ2luX2VjE");
                ids::push_alnum(&mut token, rng, 80);
                c.str("sessionToken", &token);
                ids::push_us_time(&mut us_time, cx.time + 3600);
                c.str("expiration", &us_time);
            });
            e.obj("assumedRoleUser", |a| {
                let role_id = unique_id("AROA", &cx.profile.account_chunk, role, "role", 9);
                a.fmt("assumedRoleId", format_args!("{role_id}:{session}"));
                a.fmt(
                    "arn",
                    format_args!("arn:aws:sts::{account}:assumed-role/{role}/{session}"),
                );
            });
        }
        Response::Ec2Return => {
            e.str("requestId", &request_id);
            e.bool("_return", true);
        }
        Response::RunInstances => {
            e.str("requestId", &request_id);
            let mut reservation = String::from("r-0");
            ids::push_hex_random(&mut reservation, rng, 16);
            e.str("reservationId", &reservation);
            e.str("ownerId", account);
            e.obj("groupSet", |_| {});
            e.obj("instancesSet", |s| {
                s.arr("items", |items| {
                    items.obj(|i| {
                        let mut id = String::from("i-0");
                        ids::push_hex_random(&mut id, rng, 16);
                        i.str("instanceId", &id);
                        i.str("imageId", &cx.profile.image);
                        i.obj("instanceState", |st| {
                            st.int("code", 0);
                            st.str("name", "pending");
                        });
                        i.str("instanceType", "t3.medium");
                        i.int("launchTime", cx.time * 1000);
                        i.str("vpcId", &cx.profile.vpc);
                    });
                });
            });
        }
        Response::TerminateInstances => {
            e.str("requestId", &request_id);
            e.obj("instancesSet", |s| {
                s.arr("items", |items| {
                    items.obj(|i| {
                        i.str("instanceId", cx.instance_id());
                        i.obj("currentState", |st| {
                            st.int("code", 32);
                            st.str("name", "shutting-down");
                        });
                        i.obj("previousState", |st| {
                            st.int("code", 16);
                            st.str("name", "running");
                        });
                    });
                });
            });
        }
        Response::CreateSnapshot => {
            e.str("requestId", &request_id);
            let mut snapshot = String::from("snap-0");
            ids::push_hex_random(&mut snapshot, rng, 16);
            e.str("snapshotId", &snapshot);
            e.str("volumeId", &cx.profile.instances[cx.caller.instance].volume);
            e.str("status", "pending");
            e.int("startTime", cx.time * 1000);
            e.str("progress", "");
            e.str("ownerId", account);
            e.int("volumeSize", 8);
            e.bool("encrypted", true);
        }
        Response::CreateKeyPair => {
            e.str("requestId", &request_id);
            e.fmt("keyName", format_args!("ops-{}", cx.time));
            let mut fingerprint = String::new();
            for i in 0..20 {
                if i > 0 {
                    fingerprint.push(':');
                }
                ids::push_hex_random(&mut fingerprint, rng, 2);
            }
            e.str("keyFingerprint", &fingerprint);
            let mut key = String::from("key-0");
            ids::push_hex_random(&mut key, rng, 16);
            e.str("keyPairId", &key);
        }
        Response::PutParameter => {
            e.int("version", rng.random_range(2..40));
            e.str("tier", "Standard");
        }
        Response::SendCommand => e.obj("command", |c| {
            c.str("commandId", &request_id);
            c.str("documentName", "AWS-RunShellScript");
            c.str("status", "Pending");
            c.int("targetCount", 1);
        }),
        Response::SecretArn => {
            e.str("arn", &cx.secret_arn());
            e.str("name", cx.choose(SECRETS_NAMES));
        }
        Response::CreateAccessKey => e.obj("accessKey", |k| {
            k.str("userName", cx.choose(USERS));
            let mut key = String::from("AKIA");
            key.push_str(&cx.profile.account_chunk);
            ids::push_base32(&mut key, rng, 8);
            k.str("accessKeyId", &key);
            k.str("status", "Active");
            ids::push_us_time(&mut us_time, cx.time);
            k.str("createDate", &us_time);
        }),
        Response::CreateRole => e.obj("role", |role| {
            let name = cx.choose(ROLES);
            role.str("path", "/");
            role.str("roleName", name);
            role.str(
                "roleId",
                &unique_id("AROA", &cx.profile.account_chunk, name, "role", 9),
            );
            role.str("arn", &cx.role_arn(name));
            ids::push_us_time(&mut us_time, cx.time);
            role.str("createDate", &us_time);
        }),
        Response::Function => {
            let function = cx.function();
            e.str("functionName", function);
            e.fmt(
                "functionArn",
                format_args!("arn:aws:lambda:{region}:{account}:function:{function}"),
            );
            e.str("runtime", "python3.12");
            e.str("role", &cx.role_arn("order-processor-role"));
            e.str("handler", "app.handler");
            e.int("codeSize", rng.random_range(2_000..2_000_000));
            e.int("timeout", 30);
            e.int("memorySize", 256);
            e.str("state", "Active");
        }
        Response::Subscribe => e.str("subscriptionArn", "pending confirmation"),
        Response::CreateQueue => e.fmt(
            "queueUrl",
            format_args!(
                "https://sqs.{region}.amazonaws.com/{account}/{}",
                cx.choose(QUEUES)
            ),
        ),
    });
}

fn additional_event_data(r: &mut Obj<'_>, cx: &Ctx<'_>, rng: &mut impl Rng) {
    if cx.api.service.s3 {
        r.obj("additionalEventData", |a| {
            a.str("SignatureVersion", "SigV4");
            a.str("CipherSuite", "TLS_AES_128_GCM_SHA256");
            a.int("bytesTransferredIn", 0);
            a.str("AuthenticationMethod", "AuthHeader");
            let mut amz_id = String::with_capacity(76);
            ids::push_alnum(&mut amz_id, rng, 75);
            amz_id.push('=');
            a.str("x-amz-id-2", &amz_id);
            a.int("bytesTransferredOut", rng.random_range(150..2_000));
        });
    } else if matches!(cx.api.params, Params::SecretEvent) {
        r.obj("additionalEventData", |a| {
            a.str("ARN", &cx.secret_arn());
            a.str("Name", cx.choose(SECRETS_NAMES));
        });
    }
}

fn resources(r: &mut Obj<'_>, cx: &Ctx<'_>) {
    let (kind, arn) = match cx.api.params {
        Params::AssumeRole => ("AWS::IAM::Role", cx.role_arn(cx.choose(ROLES))),
        Params::KmsKey { .. } => ("AWS::KMS::Key", cx.key_arn()),
        Params::Bucket(_) => ("AWS::S3::Bucket", format!("arn:aws:s3:::{}", cx.bucket())),
        _ => return,
    };
    r.arr("resources", |list| {
        list.obj(|res| {
            res.str("accountId", cx.account());
            res.str("type", kind);
            res.str("ARN", &arn);
        });
    });
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;
    use crate::catalogue::api_index;

    fn profile() -> Profile {
        Profile::new(3, 0, 0, "123837392027", "us-east-1", true)
    }

    fn render(event: &Event, profile: &Profile) -> String {
        let mut out = String::new();
        write_record(&mut out, event, profile);
        out
    }

    fn event(api: usize, seed: u64) -> Event {
        Event {
            time: 1_709_560_800,
            seed,
            api: api as u16,
            principal: None,
            error: ErrorChoice::Sampled,
        }
    }

    #[test]
    fn every_api_renders_a_plausible_record() {
        let profile = profile();
        let mut total = 0;
        for (index, api) in APIS.iter().enumerate() {
            for seed in 0..20 {
                let text = render(&event(index, seed), &profile);
                total += text.len();
                let v: Value =
                    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
                assert!(text.starts_with("{\"eventVersion\":\"1.0"), "{text}");
                assert_eq!(v["eventName"], api.name);
                assert_eq!(v["eventSource"], api.service.source);
                assert_eq!(v["eventTime"], "2024-03-04T14:00:00Z");
                assert_eq!(v["readOnly"], api.read_only);
                assert_eq!(v["recipientAccountId"], "123837392027");
                assert_eq!(v["eventCategory"], "Management");
                assert!(v["requestParameters"].is_object() || v["requestParameters"].is_null());
                if matches!(api.response, Response::Null) {
                    assert!(v["responseElements"].is_null(), "{text}");
                }
                let id = v["eventID"].as_str().unwrap();
                assert_eq!(id.len(), 36);
                let kind = v["userIdentity"]["type"].as_str();
                if kind == Some("AssumedRole") {
                    let arn = v["userIdentity"]["arn"].as_str().unwrap();
                    assert!(
                        arn.starts_with("arn:aws:sts::123837392027:assumed-role/"),
                        "{arn}"
                    );
                    assert!(
                        v["userIdentity"]["sessionContext"]["sessionIssuer"]["arn"].is_string()
                    );
                }
                if kind == Some("AWSService") {
                    assert!(v["userIdentity"]["arn"].is_null());
                    assert!(v["tlsDetails"].is_null());
                }
            }
        }
        let mean = total / (APIS.len() * 20);
        assert!((700..1_800).contains(&mean), "mean record size {mean}");
    }

    #[test]
    fn same_event_same_bytes_and_forced_errors() {
        let profile = profile();
        let api = api_index("AssumeRole");
        let a = render(&event(api, 42), &profile);
        assert_eq!(a, render(&event(api, 42), &profile));
        assert_ne!(a, render(&event(api, 43), &profile));
        let forced = Event {
            error: ErrorChoice::Forced(0),
            principal: Some(Principal::CiUser),
            ..event(api, 42)
        };
        let v: Value = serde_json::from_str(&render(&forced, &profile)).unwrap();
        assert_eq!(v["errorCode"], "AccessDenied");
        assert!(v["responseElements"].is_null());
        let message = v["errorMessage"].as_str().unwrap();
        assert!(message.starts_with("User: arn:aws:iam::123837392027:user/ci-bot is not authorized to perform: sts:AssumeRole"), "{message}");
    }

    #[test]
    fn service_events_and_typical_errors() {
        let profile = profile();
        let v: Value = serde_json::from_str(&render(
            &event(api_index("StartSecretVersionDelete"), 1),
            &profile,
        ))
        .unwrap();
        assert_eq!(v["eventType"], "AwsServiceEvent");
        assert!(v["userIdentity"]["type"].is_null());
        assert_eq!(
            v["userIdentity"]["invokedBy"],
            "secretsmanager.amazonaws.com"
        );
        assert!(v["additionalEventData"]["ARN"].is_string());

        let api = api_index("GetBucketPolicy");
        let errors = (0..400)
            .filter(|&seed| {
                let v: Value = serde_json::from_str(&render(&event(api, seed), &profile)).unwrap();
                v["errorCode"] == "NoSuchBucketPolicy"
            })
            .count();
        // 35% of GetBucketPolicy calls find no policy.
        assert!((100..180).contains(&errors), "{errors}");
    }
}
