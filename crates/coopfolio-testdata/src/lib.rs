//! Where the tests and benchmarks find real IATI data.
//!
//! The data ships compressed in `data/test-corpus.tar.xz` (see `data/TEST-CORPUS.md`). The first
//! caller unpacks it into `target/test-data/`; later callers, in this process or another, find it
//! there. `COOPFOLIO_SHARED_DATA` points elsewhere when set (a folder laid out like the archive,
//! such as the shared data folder of a development machine).

#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The folder holding `iati/activities/...` and `iati/schemas/tests/...`, or `None` (with the
/// reason) when the data cannot be had; callers then print `SKIPPED: <reason>`.
pub fn shared_data() -> Result<&'static Path, String> {
    static FOLDER: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    FOLDER
        .get_or_init(locate)
        .as_ref()
        .map(PathBuf::as_path)
        .map_err(Clone::clone)
}

/// The 43 real activity files of the d-portal COVID-19 extract.
pub fn covid_extract() -> Result<PathBuf, String> {
    Ok(shared_data()?.join("iati/activities/dportal-covid-extract-2021"))
}

/// The workspace root, from this crate's manifest folder.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("the crate sits two folders below the workspace root")
        .to_path_buf()
}

fn locate() -> Result<PathBuf, String> {
    if let Some(folder) = std::env::var_os("COOPFOLIO_SHARED_DATA") {
        let folder = PathBuf::from(folder);
        return if folder.join("iati").is_dir() {
            Ok(folder)
        } else {
            Err(format!(
                "COOPFOLIO_SHARED_DATA={} has no iati/ folder",
                folder.display()
            ))
        };
    }
    let root = workspace_root();
    let unpacked = root.join("target/test-data");
    if unpacked.join("iati/activities/INVENTORY.csv").is_file() {
        return Ok(unpacked);
    }
    let archive = root.join("data/test-corpus.tar.xz");
    if !archive.is_file() {
        return Err(format!("{} is missing", archive.display()));
    }
    // Unpack into a private folder and rename it into place, so that test processes running
    // at the same time never see a half-unpacked tree.
    let staging = root.join(format!("target/test-data.{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(&staging)
        .map_err(|error| format!("creating {}: {error}", staging.display()))?;
    let status = Command::new("tar")
        .arg("-xJf")
        .arg(&archive)
        .arg("-C")
        .arg(&staging)
        .status()
        .map_err(|error| format!("running tar to unpack {}: {error}", archive.display()))?;
    if !status.success() {
        return Err(format!(
            "tar could not unpack {} ({status}); is xz-utils installed?",
            archive.display()
        ));
    }
    if std::fs::rename(&staging, &unpacked).is_err() {
        // Another process won the race; its copy is as good as ours.
        let _ = std::fs::remove_dir_all(&staging);
    }
    if unpacked.join("iati/activities/INVENTORY.csv").is_file() {
        Ok(unpacked)
    } else {
        Err(format!("{} did not unpack as expected", archive.display()))
    }
}

/// Writes one large IATI activity file made of `copies` copies of the activities of `sources`,
/// each copy's identifiers given a suffix (`-copy-N`) so that every activity is new. Used for
/// the benchmark at about 1 GB and for tests that need an import long enough to interrupt.
/// Returns the number of bytes written.
pub fn write_synthetic_file(
    sources: &[PathBuf],
    copies: usize,
    out: &Path,
) -> std::io::Result<u64> {
    use std::io::Write;
    let mut writer = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(out)?);
    writer.write_all(
        b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<iati-activities version=\"2.03\">\n",
    )?;
    let bodies: Vec<String> = sources
        .iter()
        .map(|source| std::fs::read_to_string(source).map(|text| activities_of(&text).to_owned()))
        .collect::<Result<_, _>>()?;
    for copy in 0..copies {
        let suffix = format!("-copy-{copy}</iati-identifier>");
        for body in &bodies {
            writer.write_all(body.replace("</iati-identifier>", &suffix).as_bytes())?;
        }
    }
    writer.write_all(b"\n</iati-activities>\n")?;
    writer.flush()?;
    Ok(std::fs::metadata(out)?.len())
}

/// The text between the root element's start and end tags.
fn activities_of(document: &str) -> &str {
    let root = document.find("<iati-activities").unwrap_or(0);
    let start = document[root..].find('>').map_or(0, |end| root + end + 1);
    let end = document
        .rfind("</iati-activities>")
        .unwrap_or(document.len());
    &document[start..end.max(start)]
}

/// Every `.xml` file directly in a folder, sorted by name.
pub fn xml_files(folder: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(folder)? {
        let path = entry?.path();
        if path.extension().is_some_and(|extension| extension == "xml") {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}
