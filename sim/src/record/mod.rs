//! What a call looks like: one CloudTrail record, written as compact JSON with its fields in the
//! order AWS writes them (`eventVersion` first, `tlsDetails` last).
//!
//! Every random detail (principal, session, user agent, error, resource, ids) is drawn from an
//! RNG seeded by the event's own seed, so the same event always gives the same bytes.

mod context;
mod request;
mod response;

use rand::{Rng, RngExt};
use trailsight_engine::time::Timestamp;

use crate::catalogue::{
    APIS, ApiError, ErrorMessage, Identity, Params, ROLES, SECRETS_NAMES, Sessions,
    is_console_agent,
};
use crate::ids;
use crate::json::{Obj, object};
use crate::profile::Profile;
use crate::rng::{pick_weighted, seeded_rng};
use crate::traffic::{ErrorChoice, Event};
use context::{Ctx, resolve_caller, unique_id};
use request::request_parameters;
use response::response_elements;

/// Appends the JSON record of `event` to `out`.
pub(crate) fn write_record(out: &mut String, event: &Event, profile: &Profile) {
    let api = &APIS[usize::from(event.api)];
    let mut rng = seeded_rng(event.seed);
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
    use crate::catalogue::{Principal, Response, api_index};

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
