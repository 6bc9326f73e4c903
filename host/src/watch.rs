//! Watches each component's manifest `source` file and offers a changed file to
//! hot swap. The parent directory is watched (not the file), so editors and build
//! tools that write a temp file and rename it over the source are seen; events
//! are debounced so a file being written is read once it has settled.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use notify::{EventKind, RecursiveMode, Watcher as _};
use tokio::sync::mpsc;

use crate::swap::{Origin, Swapper};

/// Quiet time after the last event before the file is read.
const DEBOUNCE: Duration = Duration::from_millis(300);

/// Keeps the OS watch alive; dropping it stops watching.
pub struct SourceWatch {
    _watcher: notify::RecommendedWatcher,
}

/// Starts watching `sources` (component -> source path); swaps run on the
/// current tokio runtime.
pub fn start(
    sources: BTreeMap<String, PathBuf>,
    swapper: Arc<Swapper>,
) -> anyhow::Result<SourceWatch> {
    // (directory, file name) -> components whose source it is.
    let mut by_file: BTreeMap<(PathBuf, OsString), Vec<String>> = BTreeMap::new();
    for (component, path) in &sources {
        let path = std::path::absolute(path)?;
        let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
            continue;
        };
        by_file
            .entry((dir.to_path_buf(), name.to_os_string()))
            .or_default()
            .push(component.clone());
    }
    let dirs: BTreeSet<PathBuf> = by_file.keys().map(|(d, _)| d.clone()).collect();

    let (tx, rx) = mpsc::unbounded_channel::<String>();
    let lookup = by_file.clone();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        let Ok(event) = event else {
            return;
        };
        if !matches!(
            event.kind,
            EventKind::Create(_) | EventKind::Modify(_) | EventKind::Any
        ) {
            return;
        }
        for path in &event.paths {
            let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
                continue;
            };
            if let Some(components) = lookup.get(&(dir.to_path_buf(), name.to_os_string())) {
                for component in components {
                    let _ = tx.send(component.clone());
                }
            }
        }
    })
    .context("cannot start the file watcher")?;
    for dir in &dirs {
        watcher
            .watch(dir, RecursiveMode::NonRecursive)
            .with_context(|| format!("cannot watch {}", dir.display()))?;
        tracing::info!(dir = %dir.display(), "watching component sources");
    }

    tokio::spawn(debounce_and_swap(rx, sources, swapper));
    Ok(SourceWatch { _watcher: watcher })
}

async fn debounce_and_swap(
    mut rx: mpsc::UnboundedReceiver<String>,
    sources: BTreeMap<String, PathBuf>,
    swapper: Arc<Swapper>,
) {
    while let Some(first) = rx.recv().await {
        let mut dirty = BTreeSet::from([first]);
        loop {
            match tokio::time::timeout(DEBOUNCE, rx.recv()).await {
                Ok(Some(component)) => {
                    dirty.insert(component);
                }
                Ok(None) => return,
                Err(_) => break,
            }
        }
        for component in dirty {
            let Some(path) = sources.get(&component) else {
                continue;
            };
            let bytes = match tokio::fs::read(path).await {
                Ok(bytes) => bytes,
                Err(e) => {
                    // Mid-replace or deleted: the next event brings it back.
                    tracing::warn!(component, path = %path.display(), error = %e, "cannot read changed source");
                    continue;
                }
            };
            tracing::info!(component, path = %path.display(), "source file changed");
            // The outcome is logged and counted by the swapper.
            let _ = swapper
                .swap(&component, bytes, Origin::SourceFile(path.clone()))
                .await;
        }
    }
}
