//! Embeds the conformance case files (`conformance/<suite>/*.yaml`) in the
//! binary as a generated list of `include_str!`s, so `scimhub conformance`
//! works without the source tree. `include_str!` makes the compiler track
//! each file's content; the directory watch below catches added files.
//! It also records the compiler's version for `scimhub bench suite`.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

fn main() -> io::Result<()> {
    record_rustc_version();
    let manifest = std::env::var("CARGO_MANIFEST_DIR").map_err(io::Error::other)?;
    let root = PathBuf::from(manifest).join("conformance");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut files = Vec::new();
    collect(&root, &root, &mut files)?;
    files.sort();
    let mut out = String::from("/// (path under `conformance/`, contents) of every case file.\n");
    out.push_str("pub static FILES: &[(&str, &str)] = &[\n");
    for (relative, absolute) in &files {
        out.push_str(&format!(
            "    ({relative:?}, include_str!({absolute:?})),\n"
        ));
    }
    out.push_str("];\n");
    let dest = PathBuf::from(std::env::var("OUT_DIR").map_err(io::Error::other)?);
    fs::write(dest.join("conformance_files.rs"), out)
}

/// Every `.yaml` file below `dir`, as (path relative to `root` with `/`
/// separators, absolute path).
fn collect(root: &Path, dir: &Path, files: &mut Vec<(String, String)>) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect(root, &path, files)?;
        } else if path.extension().is_some_and(|e| e == "yaml") {
            let relative = path
                .strip_prefix(root)
                .map_err(io::Error::other)?
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            files.push((relative, path.display().to_string()));
        }
    }
    Ok(())
}

/// `SCIMHUB_RUSTC_VERSION`: the `rustc -V` of the compiler building this crate.
fn record_rustc_version() {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let version = std::process::Command::new(rustc)
        .arg("-V")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|v| v.trim().to_string())
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=SCIMHUB_RUSTC_VERSION={version}");
}
