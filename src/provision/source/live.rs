//! A running import's progress, written into its stored report (at most
//! every 500 ms, by `provision::runs::live::Recorder`), so the console and
//! the admin API can watch any run, whichever process runs it.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::report::ImportReport;
use crate::provision::runs::live::ProgressSink;
use crate::provision::runs::report::RunProgress;
use crate::store::{SourceRunRecord, SourceStore};

fn time(rfc3339: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(rfc3339)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// The report as its run row.
pub fn run_record(report: &ImportReport, source_id: &str) -> serde_json::Result<SourceRunRecord> {
    Ok(SourceRunRecord {
        id: report.id.clone(),
        source_id: source_id.to_string(),
        status: report.status.as_str().to_string(),
        dry_run: report.dry_run,
        started: time(&report.started).unwrap_or_else(Utc::now),
        finished: report.finished.as_deref().and_then(time),
        report: serde_json::to_string(report)?,
    })
}

/// Writes `running` (the report as the run started) with each new progress.
pub fn progress_sink(
    sources: Arc<dyn SourceStore>,
    running: ImportReport,
    source_id: String,
) -> ProgressSink {
    Arc::new(move |progress: &RunProgress| {
        let shown = ImportReport {
            progress: Some(progress.clone()),
            ..running.clone()
        };
        Ok(sources.update_source_run(&run_record(&shown, &source_id)?)?)
    })
}
