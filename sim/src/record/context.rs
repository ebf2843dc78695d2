//! The resolved context of one record: who calls ([`Caller`]) and what the field writers share
//! ([`Ctx`]): the account-region's resources, the API, the time and the resource it picks.

use rand::{Rng, RngExt};

use crate::catalogue::{
    Api, BUCKETS, FUNCTIONS, Identity, Origin, Params, Principal, SECRETS_NAMES, Sessions, TOPICS,
};
use crate::ids;
use crate::profile::Profile;

/// The office and VPN egress addresses people call from (RFC 5737 documentation ranges).
const OFFICE_IPS: &[&str] = &["203.0.113.24", "203.0.113.25", "198.51.100.77"];

/// The resolved caller of one record.
pub(crate) struct Caller {
    pub(crate) principal: Principal,
    /// `userIdentity.arn`, when the identity has one.
    pub(crate) arn: Option<String>,
    pub(crate) session: String,
    /// The instance behind an instance-profile session, else a random one for parameters.
    pub(crate) instance: usize,
    pub(crate) agent: &'static str,
    pub(crate) source_ip: String,
    /// The acting service, for service-linked roles and AWS services.
    pub(crate) service: Option<&'static str>,
}

/// Everything the field writers share for one record.
pub(crate) struct Ctx<'a> {
    pub(crate) profile: &'a Profile,
    pub(crate) api: &'static Api,
    pub(crate) time: i64,
    /// Chooses among the account's resources, so parameters, response and `resources` agree.
    pub(crate) pick: usize,
    pub(crate) caller: Caller,
}

impl Ctx<'_> {
    pub(crate) fn account(&self) -> &str {
        &self.profile.account
    }

    pub(crate) fn region(&self) -> &str {
        &self.profile.region
    }

    pub(crate) fn choose<'s>(&self, list: &[&'s str]) -> &'s str {
        list[self.pick % list.len()]
    }

    pub(crate) fn instance_id(&self) -> &str {
        &self.profile.instances[self.caller.instance].id
    }

    pub(crate) fn bucket(&self) -> String {
        format!("acme-{}-{}", self.choose(BUCKETS), self.account())
    }

    pub(crate) fn key_arn(&self) -> String {
        let key = &self.profile.keys[self.pick % self.profile.keys.len()];
        format!("arn:aws:kms:{}:{}:key/{key}", self.region(), self.account())
    }

    pub(crate) fn role_arn(&self, role: &str) -> String {
        format!("arn:aws:iam::{}:role/{role}", self.account())
    }

    pub(crate) fn secret_arn(&self) -> String {
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

    pub(crate) fn function(&self) -> &'static str {
        FUNCTIONS[self.pick % FUNCTIONS.len()]
    }

    pub(crate) fn topic_arn(&self) -> String {
        format!(
            "arn:aws:sns:{}:{}:{}",
            self.region(),
            self.account(),
            self.choose(TOPICS)
        )
    }

    pub(crate) fn host(&self) -> String {
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
    pub(crate) fn new_session(&self) -> String {
        match self.caller.principal {
            Principal::Svc("ec2.amazonaws.com") => self.instance_id().to_string(),
            Principal::Svc("lambda.amazonaws.com") => self.function().to_string(),
            _ => format!("botocore-session-{}", self.time - 2),
        }
    }

    pub(crate) fn private_dns(&self) -> String {
        let (x, y) = self.profile.instances[self.caller.instance].private;
        if self.region() == "us-east-1" {
            format!("ip-10-0-{x}-{y}.ec2.internal")
        } else {
            format!("ip-10-0-{x}-{y}.{}.compute.internal", self.region())
        }
    }
}

/// Draws who makes one call as `principal`: the session, the instance, the user agent and the
/// source address.
pub(crate) fn resolve_caller(
    principal: Principal,
    profile: &Profile,
    rng: &mut impl Rng,
) -> Caller {
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

/// An AWS unique id (`AROA...`, `AIDA...`, `AKIA...`): the prefix, the account's chunk, then
/// `n` characters fixed by the name and salt, so a role has the same id in every record.
pub(crate) fn unique_id(prefix: &str, chunk: &str, name: &str, salt: &str, n: usize) -> String {
    let mut id = String::with_capacity(prefix.len() + chunk.len() + n);
    id.push_str(prefix);
    id.push_str(chunk);
    ids::push_base32_of(&mut id, ids::hash_str(&format!("{name}/{salt}")), n);
    id
}
