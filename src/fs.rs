//! The one directory walker, for replay inputs and detector directories.
//!
//! It lists regular files under a directory, recursively and sorted, skipping dot files and
//! dot directories. It follows symbolic links but never enters the same directory twice (a
//! `ln -s .` loop cannot hang it), reports what it cannot read and goes on with the siblings,
//! and reports entries that are not regular files (FIFOs, sockets, devices) instead of opening
//! them: a FIFO would block a reader forever.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// Something the walker skipped, with why.
#[derive(Debug, thiserror::Error)]
pub enum WalkIssue {
    /// A directory or entry could not be read.
    #[error("{path}: cannot read: {source}")]
    Unreadable {
        /// The path.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// Not a regular file (FIFO, socket, device): skipped.
    #[error("{path}: not a regular file ({what}): skipped")]
    NotRegular {
        /// The path.
        path: PathBuf,
        /// What it is.
        what: &'static str,
    },
    /// A directory already walked (a symbolic link loop or a second link to it): skipped.
    #[error("{path}: directory already visited (symbolic link loop): skipped")]
    Loop {
        /// The path.
        path: PathBuf,
    },
}

/// The result of a walk: files in sorted order, and what was skipped.
#[derive(Debug, Default)]
pub struct Walk {
    /// Regular files found.
    pub files: Vec<PathBuf>,
    /// What was skipped, with why.
    pub issues: Vec<WalkIssue>,
}

/// Most directories one walk enters (a bound on hostile trees).
pub const MAX_DIRS: usize = 100_000;

/// Walks `dir` (see the module docs).
pub fn walk(dir: &Path) -> Walk {
    let mut w = Walk::default();
    let mut seen = HashSet::new();
    walk_into(dir, &mut w, &mut seen);
    w.files.sort();
    w
}

/// What kind of thing `meta` describes, when it is not a regular file or directory.
pub fn special_kind(meta: &std::fs::Metadata) -> Option<&'static str> {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    if t.is_file() || t.is_dir() {
        None
    } else if t.is_fifo() {
        Some("a FIFO")
    } else if t.is_socket() {
        Some("a socket")
    } else if t.is_block_device() || t.is_char_device() {
        Some("a device")
    } else {
        Some("not a file")
    }
}

fn dir_id(meta: &std::fs::Metadata) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    (meta.dev(), meta.ino())
}

fn walk_into(dir: &Path, w: &mut Walk, seen: &mut HashSet<(u64, u64)>) {
    let meta = match std::fs::metadata(dir) {
        Ok(m) => m,
        Err(source) => {
            w.issues.push(WalkIssue::Unreadable {
                path: dir.to_owned(),
                source,
            });
            return;
        }
    };
    if seen.len() >= MAX_DIRS || !seen.insert(dir_id(&meta)) {
        w.issues.push(WalkIssue::Loop {
            path: dir.to_owned(),
        });
        return;
    }
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(source) => {
            w.issues.push(WalkIssue::Unreadable {
                path: dir.to_owned(),
                source,
            });
            return;
        }
    };
    let mut children: Vec<PathBuf> = Vec::new();
    for entry in entries {
        match entry {
            Ok(e) if !e.file_name().to_string_lossy().starts_with('.') => children.push(e.path()),
            Ok(_) => {}
            Err(source) => w.issues.push(WalkIssue::Unreadable {
                path: dir.to_owned(),
                source,
            }),
        }
    }
    children.sort();
    for path in children {
        // Follows symbolic links: a link to a file is that file.
        match std::fs::metadata(&path) {
            Ok(m) if m.is_dir() => walk_into(&path, w, seen),
            Ok(m) => match special_kind(&m) {
                None => w.files.push(path),
                Some(what) => w.issues.push(WalkIssue::NotRegular { path, what }),
            },
            Err(source) => w.issues.push(WalkIssue::Unreadable { path, source }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loops_fifos_and_unreadable_entries_are_reported_not_followed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        std::fs::create_dir(root.join("a")).expect("mkdir");
        std::fs::write(root.join("a/one.log"), "x").expect("write");
        std::fs::write(root.join("b.log"), "x").expect("write");
        std::fs::write(root.join(".hidden"), "x").expect("write");
        std::os::unix::fs::symlink(".", root.join("a/loop")).expect("symlink");
        std::os::unix::fs::symlink("..", root.join("a/up")).expect("symlink");
        std::os::unix::fs::symlink("missing", root.join("dangling")).expect("symlink");
        let fifo = root.join("pipe");
        let status = std::process::Command::new("mkfifo").arg(&fifo).status();
        let w = walk(root);
        let names: Vec<String> = w
            .files
            .iter()
            .map(|p| p.strip_prefix(root).unwrap_or(p).display().to_string())
            .collect();
        assert_eq!(names, ["a/one.log", "b.log"]);
        assert!(w.issues.iter().any(|i| matches!(i, WalkIssue::Loop { .. })));
        assert!(w.issues.iter().any(
            |i| matches!(i, WalkIssue::Unreadable { path, .. } if path.ends_with("dangling"))
        ));
        if status.is_ok_and(|s| s.success()) {
            assert!(
                w.issues
                    .iter()
                    .any(|i| matches!(i, WalkIssue::NotRegular { what: "a FIFO", .. }))
            );
        }
    }
}
