//! Latency and throttling per API family, as AWS applies them.
//!
//! Buckets are AWS's token buckets: each call takes a token, tokens refill at a steady
//! rate up to the bucket's size, and a call that finds the bucket empty is answered with
//! the family's throttling error.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// One family of APIs that shares a latency and a bucket.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Family {
    /// Organizations, one bucket for the organization.
    Organizations,
    /// STS, one bucket per calling account.
    Sts,
    /// EC2 Describe*, one bucket per account and region.
    Ec2,
    /// IAM, one bucket per account.
    Iam,
}

/// Latency and bucket of a family.
#[derive(Clone, Copy, Debug)]
pub struct Limit {
    /// Time to answer a call.
    pub latency: Duration,
    /// Bucket size (the burst).
    pub bucket: f64,
    /// Tokens added per second.
    pub refill: f64,
}

/// The simulator's limits.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Organizations.
    pub organizations: Limit,
    /// STS.
    pub sts: Limit,
    /// EC2 Describe*.
    pub ec2: Limit,
    /// IAM.
    pub iam: Limit,
}

impl Limits {
    /// The defaults. EC2: the documented bucket for non-mutating actions (100, refilling 20
    /// a second, per account and region). STS: 600 requests a second per account
    /// (documented quota). IAM and Organizations publish no rates: for IAM 20 a second (bucket 40)
    /// and, for Organizations, 20 a second (bucket 40) are assumptions, lower than EC2's as the issue asks.
    /// Latencies are assumptions too (the round trip from a host in the same region).
    pub fn aws() -> Limits {
        let ms = Duration::from_millis;
        Limits {
            organizations: Limit {
                latency: ms(60),
                bucket: 40.0,
                refill: 20.0,
            },
            sts: Limit {
                latency: ms(40),
                bucket: 600.0,
                refill: 600.0,
            },
            ec2: Limit {
                latency: ms(90),
                bucket: 100.0,
                refill: 20.0,
            },
            iam: Limit {
                latency: ms(50),
                bucket: 40.0,
                refill: 20.0,
            },
        }
    }

    /// No latency, no throttling (the fidelity test).
    pub fn none() -> Limits {
        let free = Limit {
            latency: Duration::ZERO,
            bucket: f64::INFINITY,
            refill: f64::INFINITY,
        };
        Limits {
            organizations: free,
            sts: free,
            ec2: free,
            iam: free,
        }
    }

    /// Every latency multiplied by `factor`.
    pub fn scaled(mut self, factor: f64) -> Limits {
        for limit in [&mut self.organizations, &mut self.sts, &mut self.ec2, &mut self.iam] {
            limit.latency = limit.latency.mul_f64(factor);
        }
        self
    }

    /// A family's limit.
    pub fn of(&self, family: Family) -> Limit {
        match family {
            Family::Organizations => self.organizations,
            Family::Sts => self.sts,
            Family::Ec2 => self.ec2,
            Family::Iam => self.iam,
        }
    }
}

/// Every bucket, by family and key (account, or account and region).
#[derive(Default)]
pub struct Buckets {
    buckets: Mutex<HashMap<(Family, String), (f64, Instant)>>,
}

impl Buckets {
    /// Takes a token; false when the bucket is empty (the call is throttled).
    pub fn take(&self, family: Family, key: &str, limit: Limit) -> bool {
        if limit.refill.is_infinite() {
            return true;
        }
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap();
        let (tokens, at) = buckets.entry((family, key.to_string())).or_insert((limit.bucket, now));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * limit.refill).min(limit.bucket);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }
}
