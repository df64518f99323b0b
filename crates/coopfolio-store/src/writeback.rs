//! Early writeback of a SQLite database's files while an import writes them: the store's one
//! system call outside the standard library, and with `sqlite_statement` its only unsafe code.
//!
//! An import's transaction goes to the write-ahead log, which SQLite leaves to the kernel's
//! page cache until a checkpoint: the checkpoint syncs the log, copies its pages into the
//! database file and syncs that. For the 49 MB benchmark file those were two syncs of 40 MB
//! each, some 60 ms during which nothing else ran, and the deletion of a log full of dirty
//! pages took another 12. Linux's `sync_file_range(SYNC_FILE_RANGE_WRITE)` starts writing a
//! file's dirty pages to the disk without waiting for them, so called every few milliseconds
//! while the import writes, the disk writes the log as it grows, and the checkpoint's syncs
//! find little left to wait for. It changes nothing SQLite relies on: the data and the
//! order of SQLite's own syncs are the same, and only when the disk works differs.
//! On other systems [`Writeback::start`] does nothing.

use std::fs::File;
use std::path::{Path, PathBuf};

/// The database file and its write-ahead log, opened for writeback.
pub(crate) struct Writeback {
    database: PathBuf,
    files: Vec<File>,
}

impl Writeback {
    pub(crate) fn new(database: &Path) -> Writeback {
        Writeback {
            database: database.to_path_buf(),
            files: Vec::new(),
        }
    }

    /// Opens the files afresh: SQLite deletes the log when its last connection closes, and a
    /// later connection makes a new one. A database in rollback-journal mode has no log; its
    /// journal, which SQLite syncs before it writes the database, holds few pages.
    pub(crate) fn reopen(&mut self) {
        let mut log = self.database.clone().into_os_string();
        log.push("-wal");
        self.files = [self.database.as_os_str(), log.as_os_str()]
            .into_iter()
            .filter_map(|path| File::open(path).ok())
            .collect();
    }

    /// Starts writing the files' dirty pages to the disk and returns at once.
    pub(crate) fn start(&self) {
        for file in &self.files {
            start_writeback(file);
        }
    }
}

#[cfg(target_os = "linux")]
fn start_writeback(file: &File) {
    use std::os::fd::AsRawFd;
    // SAFETY: the descriptor is open for as long as `file` is borrowed, and the call only
    // reads its arguments. A failure (a file system without writeback) is of no consequence:
    // SQLite's own syncs still make the data durable.
    unsafe {
        libc::sync_file_range(file.as_raw_fd(), 0, 0, libc::SYNC_FILE_RANGE_WRITE);
    }
}

#[cfg(not(target_os = "linux"))]
fn start_writeback(_file: &File) {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn opens_the_database_and_its_log_when_they_exist() {
        let folder = tempfile::tempdir().unwrap();
        let database = folder.path().join("x.db");
        let mut writeback = Writeback::new(&database);
        writeback.reopen();
        assert_eq!(writeback.files.len(), 0, "neither file exists yet");
        File::create(&database)
            .unwrap()
            .write_all(b"pages")
            .unwrap();
        writeback.reopen();
        assert_eq!(writeback.files.len(), 1);
        File::create(folder.path().join("x.db-wal"))
            .unwrap()
            .write_all(b"frames")
            .unwrap();
        writeback.reopen();
        assert_eq!(writeback.files.len(), 2);
        writeback.start();
    }
}
