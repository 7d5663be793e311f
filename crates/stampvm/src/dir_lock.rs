//! Who is using a data directory. Two processes on one chain store would corrupt nothing (RocksDB
//! locks its own `LOCK` file), but the second learns it only deep into its start, in RocksDB's
//! words (`LOCK: Resource temporarily unavailable`). So:
//!
//! - `stampvm dev` (and `bench`) lock their data directory ([`DataDirLock`]) before launching
//!   anything, for their whole life, and a second one on the same directory stops at once naming
//!   the first;
//! - the plugin, which runs inside a node's data directory and takes no lock of its own there,
//!   names the process holding RocksDB's lock ([`posix_lock_holder`]) when its store does not open.

use std::fs::File;
use std::io::{Read, Seek, Write};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

/// The lock file inside a dev data directory; it holds the holder's process ID, for the message
/// a second process prints. It stays after the holder exits: removing it would let a third process
/// lock a new file while a second still waits on the old one.
pub const LOCK_FILE: &str = "stampvm.lock";

/// Why a data directory could not be locked.
#[derive(Debug, thiserror::Error)]
pub enum DirLockError {
    #[error("another stampvm{} is using {}: stop it, or choose another --data-dir", holder(*.pid), .dir.display())]
    InUse { dir: PathBuf, pid: Option<u32> },
    #[error("cannot lock {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

fn holder(pid: Option<u32>) -> String {
    pid.map(|pid| format!(" (pid {pid})")).unwrap_or_default()
}

/// An exclusive advisory lock (`flock`) on [`LOCK_FILE`] in a data directory, held until drop.
/// The file is opened close-on-exec, so a plugin launched meanwhile does not inherit the lock.
#[derive(Debug)]
pub struct DataDirLock {
    _file: File,
}

impl DataDirLock {
    /// Creates `dir` if needed and locks it, or says who holds it. Never waits.
    pub fn acquire(dir: &Path) -> Result<DataDirLock, DirLockError> {
        let path = dir.join(LOCK_FILE);
        let io = |source| DirLockError::Io {
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(io)?;
        let mut file = File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        // SAFETY: flock only reads the descriptor, which `file` keeps open.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
            let error = std::io::Error::last_os_error();
            if error.kind() != std::io::ErrorKind::WouldBlock {
                return Err(io(error));
            }
            let mut text = String::new();
            let pid = file
                .read_to_string(&mut text)
                .ok()
                .and_then(|_| text.trim().parse().ok());
            return Err(DirLockError::InUse {
                dir: dir.to_path_buf(),
                pid,
            });
        }
        file.set_len(0).map_err(io)?;
        file.rewind().map_err(io)?;
        writeln!(file, "{}", std::process::id()).map_err(io)?;
        Ok(DataDirLock { _file: file })
    }
}

/// The process holding a POSIX record lock (`fcntl`, what RocksDB takes on its `LOCK` file) on
/// `file` that would conflict with ours, if any. `None` when the file is missing, unlocked, or
/// locked by this very process (POSIX locks never conflict within a process).
pub fn posix_lock_holder(file: &Path) -> Option<u32> {
    let opened = File::open(file).ok()?;
    // SAFETY: an all-zero `flock` is a valid value of the plain C struct; the fields that matter
    // are set below.
    let mut query: libc::flock = unsafe { std::mem::zeroed() };
    query.l_type = libc::F_WRLCK as _;
    query.l_whence = libc::SEEK_SET as _;
    // l_start 0, l_len 0: the whole file.
    // SAFETY: F_GETLK reads and writes `query`, a live `flock`; the descriptor is open.
    let answered = unsafe { libc::fcntl(opened.as_raw_fd(), libc::F_GETLK, &mut query) };
    if answered != 0 || i32::from(query.l_type) == libc::F_UNLCK {
        return None;
    }
    u32::try_from(query.l_pid).ok().filter(|&pid| pid != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_on_one_directory_names_the_first_holder() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("dev");
        let first = DataDirLock::acquire(&data).expect("a fresh directory locks");
        // flock locks belong to the open file, so a second open in this process conflicts too.
        match DataDirLock::acquire(&data) {
            Err(DirLockError::InUse { dir, pid }) => {
                assert_eq!(dir, data);
                assert_eq!(pid, Some(std::process::id()));
            }
            other => panic!("a held directory locked again: {other:?}"),
        }
        let message = DataDirLock::acquire(&data).unwrap_err().to_string();
        assert!(
            message.starts_with(&format!(
                "another stampvm (pid {}) is using {}",
                std::process::id(),
                data.display()
            )),
            "{message}"
        );
        drop(first);
        DataDirLock::acquire(&data).expect("released on drop");
    }

    #[test]
    fn no_holder_for_a_missing_or_unlocked_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("LOCK");
        assert_eq!(posix_lock_holder(&file), None);
        std::fs::write(&file, b"").unwrap();
        assert_eq!(posix_lock_holder(&file), None);
    }
}
