//! Finding the other runtimes the suite drives (Spin, the wasmtime CLI). They are
//! not part of the project: tests that need one skip, saying so, when it is absent.

use std::path::{Path, PathBuf};

/// `spin`: `$SPIN`, else `spin` on PATH, else `target/tools/spin`.
pub fn spin() -> Option<PathBuf> {
    find("spin", "SPIN")
}

/// The wasmtime CLI: `$WASMTIME`, else `wasmtime` on PATH, else `target/tools/wasmtime`.
pub fn wasmtime() -> Option<PathBuf> {
    find("wasmtime", "WASMTIME")
}

/// The line a test prints when it cannot run for want of `name`.
pub fn missing(name: &str, var: &str) -> String {
    format!(
        "skipped: {name} not found (set {var}=/path/to/{name}, put {name} on PATH, \
         or run `make tools`; see docs/testing.md)"
    )
}

/// `$VAR` when set and non-empty, else `name` on PATH, else `target/tools/<name>`
/// (where `make tools` unpacks CI's release binaries). A `$VAR` naming no
/// executable is a broken setup, not an absent tool: that panics rather than let a
/// CI run skip silently.
pub fn find(name: &str, var: &str) -> Option<PathBuf> {
    if let Some(given) = std::env::var_os(var).filter(|v| !v.is_empty()) {
        let path = PathBuf::from(given);
        assert!(
            is_executable(&path),
            "{var}={} is not an executable file",
            path.display()
        );
        return Some(path);
    }
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|p| is_executable(p))
    });
    on_path.or_else(|| {
        let unpacked = crate::repo_root().join("target/tools").join(name);
        is_executable(&unpacked).then_some(unpacked)
    })
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}
