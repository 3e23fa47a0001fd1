//! Helpers shared by the test files: scratch directories and a warning recorder.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use brine_memo::{Cache, CacheBuilder, Warning};

/// A fresh directory under the system temp dir, removed when dropped.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(name: &str) -> Scratch {
        let dir =
            std::env::temp_dir().join(format!("brine-memo-test-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create scratch dir");
        Scratch(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Every warning a cache reported, in order.
pub type Seen = Arc<Mutex<Vec<Warning>>>;

/// `builder` with a callback recording warnings into the returned list.
pub fn recording(builder: CacheBuilder) -> (Cache, Seen) {
    let seen: Seen = Arc::default();
    let sink = seen.clone();
    let cache = builder
        .on_warning(move |w| sink.lock().expect("warning list").push(w.clone()))
        .open()
        .expect("open cache");
    (cache, seen)
}

/// Names of the files in a namespace folder (entries and temporaries).
pub fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}
