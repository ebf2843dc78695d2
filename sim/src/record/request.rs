//! `requestParameters`: the small object each API's [`Params`] shape names, its values drawn from
//! the account-region's resources so that parameters, response and `resources` agree.

use rand::Rng;
use trailsight_engine::time::Timestamp;

use super::context::Ctx;
use crate::catalogue::{
    ECS_SERVICES, PARAMETERS, POLICIES, Params, QUEUES, ROLES, SECRETS_NAMES, TRAIL_NAME, USERS,
};
use crate::ids;
use crate::json::Obj;

/// Policy document used by IAM write calls; a JSON text inside a JSON string, as AWS logs it.
const TRUST_POLICY: &str = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"Service\":\"ec2.amazonaws.com\"},\"Action\":\"sts:AssumeRole\"}]}";
const INLINE_POLICY: &str = "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\n      \"Effect\": \"Allow\",\n      \"Action\": [\"s3:GetObject\", \"s3:PutObject\"],\n      \"Resource\": \"arn:aws:s3:::acme-assets-*/*\"\n    }\n  ]\n}";

/// Writes `requestParameters` (`null` for calls that log none).
pub(crate) fn request_parameters(r: &mut Obj<'_>, cx: &Ctx<'_>, rng: &mut impl Rng) {
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
