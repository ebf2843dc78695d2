//! `responseElements` of a successful call: the shape its [`Response`] names, with fresh ids
//! (request ids, credentials, snapshots) from the record's own RNG.

use rand::{Rng, RngExt};

use super::context::{Ctx, unique_id};
use crate::catalogue::{QUEUES, ROLES, Response, SECRETS_NAMES, USERS};
use crate::ids;
use crate::json::Obj;

/// Writes `responseElements` (`null` for responses CloudTrail does not log).
pub(crate) fn response_elements(r: &mut Obj<'_>, cx: &Ctx<'_>, rng: &mut impl Rng) {
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
