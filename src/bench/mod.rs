//! `scimhub bench …`: reproducible benchmarks that print numbers. They run
//! the real server in-process on loopback over a fresh database.

mod query;

pub use query::{QueryBench, run_query_bench};

use std::time::Duration;

/// p50 / p99 / mean of latencies.
pub fn summarize(mut samples: Vec<Duration>) -> (Duration, Duration, Duration) {
    if samples.is_empty() {
        return (Duration::ZERO, Duration::ZERO, Duration::ZERO);
    }
    samples.sort();
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
    let mean = samples.iter().sum::<Duration>() / samples.len() as u32;
    (at(0.50), at(0.99), mean)
}

pub fn ms(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64() * 1000.0)
}
