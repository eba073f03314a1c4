//! Scheduled runs while serving: each source with `schedule_secs` runs
//! that often, and a file source's `watch_dir` is looked at as often (or
//! every few seconds): each new file is imported, then moved to
//! `processed/` (or `failed/` when the run failed as a whole).
