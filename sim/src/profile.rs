//! What makes one simulated account-region different from another: its resources (instances,
//! VPC, keys), its own multiplier on every API's rate, and the time of its nightly job.

use rand::RngExt;

use crate::catalogue::{APIS, CRON_APIS, DEPLOY_APIS, api_index};
use crate::ids::{self, Stream};
use crate::rng::seeded_rng;

/// Instances behind the app-server and SSM agent roles. Fixed, not scaled: `--scale` makes each
/// of them busier rather than adding more of them.
const INSTANCES: usize = 12;

/// One EC2 instance of the account-region.
#[derive(Clone, Debug)]
pub(crate) struct Instance {
    pub(crate) id: String,
    pub(crate) public_ip: String,
    /// Third and fourth octet of its 10.0.x.y address.
    pub(crate) private: (u8, u8),
    pub(crate) volume: String,
    /// Availability zone letter.
    pub(crate) zone: char,
}

/// The nightly job of an account-region.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Cron {
    /// Index in [`APIS`].
    pub(crate) api: usize,
    /// UTC minute of the day at which it starts.
    pub(crate) minute_of_day: i64,
}

/// Infrastructure-as-code stacks per account-region.
const STACKS: usize = 2;

/// One infrastructure-as-code stack: what an apply of it calls. The same stack applied again
/// makes about the same calls, as a Terraform plan does.
#[derive(Clone, Debug)]
pub(crate) struct Stack {
    /// Per API touched: its index in [`APIS`], its usual number of calls, and the seconds an
    /// apply spends on it.
    pub(crate) parts: Vec<(usize, u32, i64)>,
}

/// One account-region's traits and resources.
#[derive(Debug)]
pub(crate) struct Profile {
    pub(crate) account: String,
    pub(crate) region: String,
    /// The 8 characters AWS unique ids of this account share after their 4-letter prefix.
    pub(crate) account_chunk: String,
    /// Per API: this account-region's multiplier on the catalogue rate.
    pub(crate) rate_mult: Vec<f64>,
    /// Per API: whether the API is logged in this Region (global services are logged once).
    pub(crate) active: Vec<bool>,
    pub(crate) instances: Vec<Instance>,
    pub(crate) vpc: String,
    pub(crate) security_groups: Vec<String>,
    pub(crate) image: String,
    pub(crate) launch_template: String,
    /// KMS key ids (UUIDs).
    pub(crate) keys: Vec<String>,
    /// Suffix of the target group ARN.
    pub(crate) target_group: String,
    pub(crate) cron: Cron,
    /// The stacks its deploys apply.
    pub(crate) stacks: Vec<Stack>,
}

impl Profile {
    /// A fixed pseudo-random number for agent `agent` of API `api` in this account-region: its
    /// phase on the timer.
    pub(crate) fn phase(&self, api: usize, agent: u64) -> u64 {
        let key = format!("{} {} {api} {agent}", self.account, self.region);
        ids::hash_str(&key)
    }

    /// The profile of `account` in `region`. `logs_global` says whether global services (IAM)
    /// are logged in this Region.
    pub(crate) fn new(
        seed: u64,
        account_index: usize,
        region_index: usize,
        account: &str,
        region: &str,
        logs_global: bool,
    ) -> Profile {
        let mut rng = seeded_rng(ids::derive_seed(
            seed,
            Stream::Profile,
            &[account_index as u64, region_index as u64],
        ));
        let mut account_chunk = String::new();
        ids::push_base32_of(&mut account_chunk, ids::hash_str(account), 8);
        // Each account-region uses the same APIs at somewhat different rates (x0.67 to x1.5).
        let rate_mult = APIS
            .iter()
            .map(|_| rng.random_range(-0.4f64..0.4).exp())
            .collect();
        let active = APIS
            .iter()
            .map(|api| logs_global || !api.service.global)
            .collect();
        let mut hex_id = |prefix: &str| {
            let mut id = String::from(prefix);
            // AWS resource ids: a type prefix, then "0" and 16 hex digits.
            ids::push_hex_random(&mut id, &mut rng, 16);
            id
        };
        let mut instances = Vec::with_capacity(INSTANCES);
        for _ in 0..INSTANCES {
            instances.push(Instance {
                id: hex_id("i-0"),
                volume: hex_id("vol-0"),
                public_ip: String::new(),
                private: (0, 0),
                zone: 'a',
            });
        }
        let vpc = hex_id("vpc-0");
        let security_groups = (0..3).map(|_| hex_id("sg-0")).collect();
        let image = hex_id("ami-0");
        let launch_template = hex_id("lt-0");
        for instance in &mut instances {
            instance.public_ip = format!(
                "3.{}.{}.{}",
                rng.random_range(80..96u8),
                rng.random_range(0..=255u8),
                rng.random_range(1..255u8)
            );
            instance.private = (rng.random_range(0..32u8), rng.random_range(4..255u8));
            instance.zone = char::from(b'a' + rng.random_range(0..4u8));
        }
        let keys = (0..3).map(|_| ids::uuid(&mut rng)).collect();
        let mut target_group = String::new();
        ids::push_hex_random(&mut target_group, &mut rng, 16);
        let cron = Cron {
            api: api_index(CRON_APIS[rng.random_range(0..CRON_APIS.len())]),
            // Nightly jobs run between 01:00 and 05:00 UTC, on a 5-minute mark like cron jobs.
            minute_of_day: 60 + 5 * rng.random_range(0..48i64),
        };
        let deploy_apis: Vec<usize> = DEPLOY_APIS
            .iter()
            .map(|name| api_index(name))
            .filter(|&api| logs_global || !APIS[api].service.global)
            .collect();
        let stacks = (0..STACKS)
            .map(|_| {
                let mut apis = deploy_apis.clone();
                let touched = rng.random_range(2..=4usize).min(apis.len());
                let parts = (0..touched)
                    .map(|_| {
                        let api = apis.swap_remove(rng.random_range(0..apis.len()));
                        let calls = rng.random_range(20..=60);
                        (api, calls, 60 * rng.random_range(2..=5i64))
                    })
                    .collect();
                Stack { parts }
            })
            .collect();
        Profile {
            account: account.to_string(),
            region: region.to_string(),
            account_chunk,
            rate_mult,
            active,
            instances,
            vpc,
            security_groups,
            image,
            launch_template,
            keys,
            target_group,
            cron,
            stacks,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_are_reproducible_and_distinct() {
        let a = Profile::new(1, 0, 0, "123456789012", "us-east-1", true);
        let b = Profile::new(1, 0, 0, "123456789012", "us-east-1", true);
        let c = Profile::new(1, 0, 1, "123456789012", "eu-west-1", false);
        assert_eq!(a.instances[3].id, b.instances[3].id);
        assert_eq!(a.rate_mult, b.rate_mult);
        assert_ne!(a.instances[3].id, c.instances[3].id);
        assert_eq!(a.account_chunk, c.account_chunk);
        assert!(
            a.instances
                .iter()
                .all(|i| i.id.len() == 19 && i.id.starts_with("i-0"))
        );
        let iam = api_index("GetRole");
        assert!(a.active[iam] && !c.active[iam]);
    }
}
