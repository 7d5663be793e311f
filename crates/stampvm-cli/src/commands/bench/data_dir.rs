//! Where the bench chain keeps its data: the directory the user named (kept afterwards), or a
//! fresh temporary one removed when the run ends, however it ends.

use std::path::{Path, PathBuf};

#[derive(Debug)]
pub struct DataDir {
    path: PathBuf,
    /// Ours to remove on drop.
    temporary: bool,
}

impl DataDir {
    /// `given`, or a new directory under the system's temporary directory.
    pub fn new(given: Option<PathBuf>) -> std::io::Result<DataDir> {
        if let Some(path) = given {
            std::fs::create_dir_all(&path)?;
            return Ok(DataDir {
                path,
                temporary: false,
            });
        }
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let name = format!("stampvm-bench-{}-{nanos:08x}", std::process::id());
        let path = std::env::temp_dir().join(name);
        // create_dir, not create_dir_all: an existing directory is someone else's.
        std::fs::create_dir(&path)?;
        Ok(DataDir {
            path,
            temporary: true,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for DataDir {
    fn drop(&mut self) {
        if self.temporary {
            if let Err(error) = std::fs::remove_dir_all(&self.path) {
                tracing::warn!(%error, path = %self.path.display(), "could not remove the bench data dir");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_temporary_dir_is_removed_and_a_given_one_kept() {
        let temporary = DataDir::new(None).unwrap();
        let path = temporary.path().to_path_buf();
        assert!(path.is_dir());
        drop(temporary);
        assert!(!path.exists());

        let given = std::env::temp_dir().join(format!("stampvm-bench-kept-{}", std::process::id()));
        drop(DataDir::new(Some(given.clone())).unwrap());
        assert!(given.is_dir());
        std::fs::remove_dir_all(given).unwrap();
    }
}
