//! What a data dir does not hold. `backup` and `restore` copy the data dir; a
//! component that keeps its data in PostgreSQL, and a fleet's version record, live
//! in a database instead, and an operator has to hear that from the tool rather
//! than find out at restore time.

use std::path::Path;

use crate::caps::variables::{Environment, resolve_application};
use crate::manifest;

/// One line per store outside the data dir: components the manifest lets reach a
/// PostgreSQL server, and the fleet database. Empty when the manifest cannot be
/// read: the backup itself does not depend on it.
pub fn notices(manifest_path: &Path, env: &dyn Fn(&str) -> Option<String>) -> Vec<String> {
    let mut out = Vec::new();
    // Parsed only: the component files need not be on this machine for a backup.
    let base = manifest_path.parent().unwrap_or(Path::new("."));
    if let Ok(text) = std::fs::read_to_string(manifest_path)
        && let Ok(manifest) = manifest::parse(&text, base)
        && let Ok(app_values) = resolve_application(&manifest.variables, &Environment(env))
    {
        for component in manifest.components.values() {
            let Ok(allowed) = component.allow_list(&app_values) else {
                continue;
            };
            let servers = allowed.entries_for("postgres");
            if !servers.is_empty() {
                out.push(format!(
                    "component `{}` may keep data in PostgreSQL ({}): that data is not in \
                     this backup; back it up with PostgreSQL's own tools (pg_dump, or your \
                     operator's backups; see docs/operations.md)",
                    component.id,
                    servers.join(", ")
                ));
            }
        }
    }
    if env("TRACKER_FLEET_DATABASE_URL").is_some_and(|v| !v.trim().is_empty()) {
        out.push(
            "fleet mode: the hot-swapped component versions are kept in the fleet \
             database, not in this data dir (which holds this replica's compile cache)"
                .to_owned(),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest_file(dir: &Path) -> std::path::PathBuf {
        let path = dir.join("spin.toml");
        std::fs::write(
            &path,
            r#"spin_manifest_version = 2
[application]
name = "t"
[variables]
database_host = { default = "" }
[[trigger.http]]
route = "/..."
component = "api"
[component.api]
source = "api.wasm"
allowed_outbound_hosts = ["{{ database_host }}", "https://example.com"]
"#,
        )
        .expect("write manifest");
        path
    }

    #[test]
    fn a_component_that_may_reach_postgres_is_named_with_its_server() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = manifest_file(dir.path());
        let env = |name: &str| {
            (name == "SPIN_VARIABLE_DATABASE_HOST")
                .then(|| "postgres://db.internal:6432".to_owned())
        };
        let notes = notices(&path, &env);
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(notes[0].contains("`api`"), "{}", notes[0]);
        assert!(
            notes[0].contains("postgres://db.internal:6432"),
            "{}",
            notes[0]
        );
        assert!(notes[0].contains("pg_dump"), "{}", notes[0]);
    }

    #[test]
    fn single_node_sqlite_needs_no_notice() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = manifest_file(dir.path());
        assert!(notices(&path, &|_| None).is_empty());
        assert!(notices(&dir.path().join("missing.toml"), &|_| None).is_empty());
        let fleet = |name: &str| {
            (name == "TRACKER_FLEET_DATABASE_URL").then(|| "postgres://db/app".to_owned())
        };
        assert_eq!(notices(&path, &fleet).len(), 1);
    }
}
