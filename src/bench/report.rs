//! The suite's rows: per-run measurements folded into medians, printed as a
//! table or as JSON.

use std::fmt;
use std::time::Duration;

use serde::Serialize;

use super::machine::Machine;
use super::suite::{Measurement, SuiteBench};

/// One scenario across the runs.
pub struct Row {
    pub name: String,
    runs: Vec<Measurement>,
    /// Per run: req/s divided by that run's ceiling.
    ratios: Vec<f64>,
}

impl Row {
    pub fn new(name: &str) -> Self {
        Self {
            name: name.to_string(),
            runs: Vec::new(),
            ratios: Vec::new(),
        }
    }

    /// A row measured once (or not at all).
    pub fn single(name: &str, measured: Option<Measurement>) -> Self {
        let mut row = Self::new(name);
        row.runs.extend(measured);
        row
    }

    pub fn push(&mut self, m: Measurement, ratio: Option<f64>) {
        self.runs.push(m);
        self.ratios.extend(ratio);
    }

    fn summary(&self) -> RowSummary {
        let durations = |f: fn(&Measurement) -> Option<Duration>| {
            median(
                self.runs
                    .iter()
                    .filter_map(f)
                    .map(|d| d.as_secs_f64() * 1000.0),
            )
        };
        RowSummary {
            scenario: self.name.clone(),
            value: median(self.runs.iter().map(|m| m.value)),
            unit: self.runs.first().map(|m| m.unit),
            p50_ms: durations(|m| m.p50),
            p99_ms: durations(|m| m.p99),
            vs_ceiling: median(self.ratios.iter().copied()),
            cpu_us_per_request: median(self.runs.iter().filter_map(|m| m.cpu_us)),
            runs: self.runs.len(),
        }
    }
}

fn median(values: impl Iterator<Item = f64>) -> Option<f64> {
    let mut v: Vec<f64> = values.collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    Some(if v.len() % 2 == 1 {
        v[mid]
    } else {
        (v[mid - 1] + v[mid]) / 2.0
    })
}

#[derive(Serialize)]
struct RowSummary {
    scenario: String,
    value: Option<f64>,
    unit: Option<&'static str>,
    p50_ms: Option<f64>,
    p99_ms: Option<f64>,
    vs_ceiling: Option<f64>,
    cpu_us_per_request: Option<f64>,
    runs: usize,
}

#[derive(Serialize)]
struct Settings {
    backend: &'static str,
    /// `serve` processes sharing the database.
    instances: usize,
    users: u64,
    runs: usize,
    concurrency: usize,
    duration_secs: f64,
    member_sizes: Vec<u64>,
    bulk_rounds: usize,
}

#[derive(Serialize)]
pub struct Report {
    machine: Machine,
    settings: Settings,
    rows: Vec<RowSummary>,
}

impl Report {
    /// `url` only decides the backend's name; it is never printed.
    pub fn new(args: &SuiteBench, url: &str, rows: Vec<Row>) -> Self {
        let backend = if url.starts_with("postgres") {
            "PostgreSQL"
        } else {
            "SQLite"
        };
        Self {
            machine: Machine::describe(),
            settings: Settings {
                backend,
                instances: args.instances,
                users: args.users,
                runs: args.runs,
                concurrency: args.concurrency,
                duration_secs: args.duration.as_secs_f64(),
                member_sizes: args.member_sizes.clone(),
                bulk_rounds: args.bulk_rounds,
            },
            rows: rows.iter().map(Row::summary).collect(),
        }
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (m, s) = (&self.machine, &self.settings);
        let instances = match s.instances {
            1 => String::new(),
            n => format!(" ({n} serve instances)"),
        };
        writeln!(
            f,
            "scimhub bench suite: {}{instances}, {} users, concurrency {}, {} s per scenario, medians of {} runs",
            s.backend, s.users, s.concurrency, s.duration_secs, s.runs
        )?;
        writeln!(f, "{}", m.summary())?;
        writeln!(
            f,
            "{:<58} {:>10} {:<8} {:>9} {:>9} {:>9} {:>10}",
            "scenario", "rate", "unit", "p50 ms", "p99 ms", "×ceiling", "CPU µs/req"
        )?;
        let num = |v: Option<f64>, digits: usize| v.map_or("-".into(), |v| format!("{v:.digits$}"));
        for r in &self.rows {
            writeln!(
                f,
                "{:<58} {:>10} {:<8} {:>9} {:>9} {:>9} {:>10}",
                r.scenario,
                num(r.value, if r.unit == Some("MiB") { 1 } else { 0 }),
                r.unit.unwrap_or("-"),
                num(r.p50_ms, 3),
                num(r.p99_ms, 3),
                num(r.vs_ceiling, 2),
                num(r.cpu_us_per_request, 0),
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_of_odd_and_even_counts() {
        assert_eq!(median([3.0, 1.0, 2.0].into_iter()), Some(2.0));
        assert_eq!(median([4.0, 1.0, 2.0, 3.0].into_iter()), Some(2.5));
        assert_eq!(median(std::iter::empty()), None);
    }
}
