//! The subset of Spin's `spin.toml` (manifest version 2) that tracker-host serves.
//!
//! Anything the host cannot honour is refused with the dotted path of the field,
//! so a manifest never runs with a setting silently dropped. Fields that only
//! matter to other tools (`build`, descriptions, authors) are accepted and ignored.
//!
//! Every value that has a syntax of its own (routes, templates, allowed hosts) is
//! parsed here, once, and kept parsed: the rest of the host never sees the strings.

pub mod allowed_hosts;
pub mod template;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use toml::{Table, Value};

use crate::router::RoutePattern;
use allowed_hosts::OutboundHosts;
use template::{Template, is_valid_variable_name};

/// A manifest problem, always tied to the field that caused it.
#[derive(Debug, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ManifestError {
    pub field: String,
    pub message: String,
}

impl ManifestError {
    fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

type Result<T> = std::result::Result<T, ManifestError>;

#[derive(Debug, Clone)]
pub struct Manifest {
    pub application: Application,
    pub variables: BTreeMap<String, VariableDecl>,
    pub http_triggers: Vec<HttpTrigger>,
    pub components: BTreeMap<String, ComponentDecl>,
}

#[derive(Debug, Clone, Default)]
pub struct Application {
    pub name: String,
    pub version: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VariableDecl {
    pub default: Option<String>,
    pub required: bool,
    pub secret: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpTrigger {
    /// `None` for a private endpoint (`route = { private = true }`): never routed.
    pub route: Option<TriggerRoute>,
    pub component: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TriggerRoute {
    /// As written in the manifest (`spin-matched-route`).
    pub raw: String,
    pub pattern: RoutePattern,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComponentDecl {
    pub id: String,
    /// Absolute (or manifest-relative resolved) path of the `.wasm` file.
    pub source: PathBuf,
    pub key_value_stores: Vec<String>,
    pub sqlite_databases: Vec<String>,
    pub allowed_outbound_hosts: OutboundHosts,
    /// Component configuration: name -> template such as `"{{ api_token }}"`.
    pub variables: BTreeMap<String, Template>,
    pub environment: BTreeMap<String, String>,
}

impl ComponentDecl {
    /// The hosts this component may reach, its templates rendered from the
    /// application's variables; errors name the field.
    pub fn allow_list(
        &self,
        app_values: &BTreeMap<String, String>,
    ) -> anyhow::Result<allowed_hosts::AllowList> {
        self.allowed_outbound_hosts
            .resolve(app_values)
            .map_err(|e| anyhow::anyhow!("component.{}.allowed_outbound_hosts: {e}", self.id))
    }
}

/// Reads and validates a manifest file; component sources resolve against its directory.
pub fn load(path: &Path) -> anyhow::Result<Manifest> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("cannot read manifest {}: {e}", path.display()))?;
    let base = path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let manifest = parse(&text, &base)
        .map_err(|e| anyhow::anyhow!("manifest {} refused: {e}", path.display()))?;
    check_sources_exist(&manifest)
        .map_err(|e| anyhow::anyhow!("manifest {} refused: {e}", path.display()))?;
    Ok(manifest)
}

/// Parses and validates manifest text; `base` is the directory sources are relative to.
/// Does not touch the file system.
pub fn parse(text: &str, base: &Path) -> Result<Manifest> {
    let root: Table = text
        .parse()
        .map_err(|e: toml::de::Error| ManifestError::new("(toml)", e.to_string().trim_end()))?;

    reject_unknown(
        &root,
        "",
        &[
            "spin_manifest_version",
            "application",
            "variables",
            "trigger",
            "component",
        ],
        &[],
    )?;

    match root.get("spin_manifest_version") {
        Some(Value::Integer(2)) => {}
        Some(Value::String(s)) if s == "2" => {}
        Some(other) => {
            return Err(ManifestError::new(
                "spin_manifest_version",
                format!("only version 2 is supported, found {other}"),
            ));
        }
        None => {
            return Err(ManifestError::new(
                "spin_manifest_version",
                "missing; tracker-host reads manifest version 2",
            ));
        }
    }

    let application = parse_application(root.get("application"))?;
    let variables = parse_variables(root.get("variables"))?;
    let components = parse_components(root.get("component"), base)?;
    let http_triggers = parse_triggers(root.get("trigger"), &components)?;

    Ok(Manifest {
        application,
        variables,
        http_triggers,
        components,
    })
}

fn check_sources_exist(manifest: &Manifest) -> Result<()> {
    for c in manifest.components.values() {
        if !c.source.is_file() {
            return Err(ManifestError::new(
                format!("component.{}.source", c.id),
                format!(
                    "file {} does not exist (build it first)",
                    c.source.display()
                ),
            ));
        }
    }
    Ok(())
}

fn parse_application(value: Option<&Value>) -> Result<Application> {
    let Some(value) = value else {
        return Ok(Application::default());
    };
    let table = as_table(value, "application")?;
    reject_unknown(
        table,
        "application",
        &["name", "version"],
        &["description", "authors", "targets"],
    )?;
    Ok(Application {
        name: opt_string(table, "application", "name")?.unwrap_or_default(),
        version: opt_string(table, "application", "version")?,
    })
}

fn parse_variables(value: Option<&Value>) -> Result<BTreeMap<String, VariableDecl>> {
    let mut out = BTreeMap::new();
    let Some(value) = value else {
        return Ok(out);
    };
    for (name, decl) in as_table(value, "variables")? {
        let field = format!("variables.{name}");
        check_variable_name(name, &field)?;
        let table = as_table(decl, &field)?;
        reject_unknown(table, &field, &["default", "required", "secret"], &[])?;
        let default = opt_string(table, &field, "default")?;
        let required = opt_bool(table, &field, "required")?.unwrap_or(false);
        let secret = opt_bool(table, &field, "secret")?.unwrap_or(false);
        if required && default.is_some() {
            return Err(ManifestError::new(
                field,
                "a variable cannot be both required and have a default",
            ));
        }
        out.insert(
            name.clone(),
            VariableDecl {
                default,
                required,
                secret,
            },
        );
    }
    Ok(out)
}

fn parse_components(value: Option<&Value>, base: &Path) -> Result<BTreeMap<String, ComponentDecl>> {
    let mut out = BTreeMap::new();
    let Some(value) = value else {
        return Ok(out);
    };
    for (id, decl) in as_table(value, "component")? {
        let field = format!("component.{id}");
        check_component_id(id, &field)?;
        let table = as_table(decl, &field)?;
        reject_unknown(
            table,
            &field,
            &[
                "source",
                "key_value_stores",
                "sqlite_databases",
                "allowed_outbound_hosts",
                "variables",
                "environment",
            ],
            &["build", "description", "tool"],
        )?;

        let source = base.join(string_not_table(
            table,
            &field,
            "source",
            "a file path string",
            "remote (url/digest) sources are not supported; give a local file path",
        )?);

        let key_value_stores = label_list(table, &field, "key_value_stores")?;
        let sqlite_databases = label_list(table, &field, "sqlite_databases")?;
        let mut allowed_outbound_hosts = OutboundHosts::default();
        for (i, host) in string_list(table, &field, "allowed_outbound_hosts")?
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            allowed_outbound_hosts.push(host).map_err(|e| {
                ManifestError::new(format!("{field}.allowed_outbound_hosts[{i}]"), e)
            })?;
        }

        let variables = string_table(table, &field, "variables")?
            .into_iter()
            .map(|(name, text)| {
                let vfield = format!("{field}.variables.{name}");
                check_variable_name(&name, &vfield)?;
                let template = Template::parse(&text).map_err(|e| ManifestError::new(vfield, e))?;
                Ok((name, template))
            })
            .collect::<Result<_>>()?;
        let environment = string_table(table, &field, "environment")?;

        out.insert(
            id.clone(),
            ComponentDecl {
                id: id.clone(),
                source,
                key_value_stores,
                sqlite_databases,
                allowed_outbound_hosts,
                variables,
                environment,
            },
        );
    }
    Ok(out)
}

fn parse_triggers(
    value: Option<&Value>,
    components: &BTreeMap<String, ComponentDecl>,
) -> Result<Vec<HttpTrigger>> {
    let Some(value) = value else {
        return Err(ManifestError::new(
            "trigger.http",
            "missing; at least one [[trigger.http]] is needed",
        ));
    };
    let table = as_table(value, "trigger")?;
    for key in table.keys() {
        if key != "http" {
            return Err(ManifestError::new(
                format!("trigger.{key}"),
                format!("trigger type `{key}` is not supported; tracker-host serves only http"),
            ));
        }
    }
    let Some(Value::Array(entries)) = table.get("http") else {
        return Err(ManifestError::new(
            "trigger.http",
            "must be an array of tables ([[trigger.http]])",
        ));
    };

    let mut triggers = Vec::new();
    let mut seen_routes: BTreeMap<String, usize> = BTreeMap::new();
    for (i, entry) in entries.iter().enumerate() {
        let field = format!("trigger.http[{i}]");
        let t = as_table(entry, &field)?;
        reject_unknown(t, &field, &["route", "component", "executor"], &["id"])?;

        if let Some(executor) = t.get("executor") {
            let ok = executor
                .as_table()
                .and_then(|e| e.get("type"))
                .and_then(Value::as_str)
                == Some("spin");
            if !ok {
                return Err(ManifestError::new(
                    format!("{field}.executor"),
                    "only the default `spin` executor (WASI HTTP) is supported",
                ));
            }
        }

        let component = string_not_table(
            t,
            &field,
            "component",
            "a component id string",
            "inline components are not supported; define it under [component.<id>]",
        )?
        .to_owned();
        if !components.contains_key(&component) {
            return Err(ManifestError::new(
                format!("{field}.component"),
                format!("component `{component}` is not defined (no [component.{component}])"),
            ));
        }

        let route = match t.get("route") {
            Some(Value::String(route)) => {
                let route_field = format!("{field}.route");
                let pattern =
                    RoutePattern::parse(route).map_err(|e| ManifestError::new(&route_field, e))?;
                if let Some(first) = seen_routes.insert(pattern.to_string(), i) {
                    return Err(ManifestError::new(
                        route_field,
                        format!("route `{route}` duplicates trigger.http[{first}].route"),
                    ));
                }
                Some(TriggerRoute {
                    raw: route.clone(),
                    pattern,
                })
            }
            Some(Value::Table(r)) => {
                if r.get("private").and_then(Value::as_bool) == Some(true) && r.len() == 1 {
                    None
                } else {
                    return Err(ManifestError::new(
                        format!("{field}.route"),
                        "a table route must be `{ private = true }`",
                    ));
                }
            }
            Some(_) => {
                return Err(ManifestError::new(
                    format!("{field}.route"),
                    "must be a string",
                ));
            }
            None => return Err(ManifestError::new(format!("{field}.route"), "missing")),
        };
        triggers.push(HttpTrigger { route, component });
    }
    Ok(triggers)
}

fn reject_unknown(table: &Table, field: &str, known: &[&str], ignored: &[&str]) -> Result<()> {
    for key in table.keys() {
        if !known.contains(&key.as_str()) && !ignored.contains(&key.as_str()) {
            let path = if field.is_empty() {
                key.clone()
            } else {
                format!("{field}.{key}")
            };
            return Err(ManifestError::new(
                path,
                "not supported by tracker-host (it would change behaviour, so the manifest is refused)",
            ));
        }
    }
    Ok(())
}

fn as_table<'a>(value: &'a Value, field: &str) -> Result<&'a Table> {
    value
        .as_table()
        .ok_or_else(|| ManifestError::new(field, "must be a table"))
}

/// A required string field whose table form (which Spin also reads) tracker-host
/// refuses with `table_refusal`.
fn string_not_table<'a>(
    table: &'a Table,
    field: &str,
    key: &str,
    what: &str,
    table_refusal: &str,
) -> Result<&'a str> {
    let path = format!("{field}.{key}");
    match table.get(key) {
        Some(Value::String(s)) => Ok(s),
        Some(Value::Table(_)) => Err(ManifestError::new(path, table_refusal)),
        Some(_) => Err(ManifestError::new(path, format!("must be {what}"))),
        None => Err(ManifestError::new(path, "missing")),
    }
}

fn opt_string(table: &Table, field: &str, key: &str) -> Result<Option<String>> {
    match table.get(key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(ManifestError::new(
            format!("{field}.{key}"),
            "must be a string",
        )),
    }
}

fn opt_bool(table: &Table, field: &str, key: &str) -> Result<Option<bool>> {
    match table.get(key) {
        None => Ok(None),
        Some(Value::Boolean(b)) => Ok(Some(*b)),
        Some(_) => Err(ManifestError::new(
            format!("{field}.{key}"),
            "must be true or false",
        )),
    }
}

fn string_list(table: &Table, field: &str, key: &str) -> Result<Option<Vec<String>>> {
    let Some(value) = table.get(key) else {
        return Ok(None);
    };
    let path = format!("{field}.{key}");
    let Value::Array(items) = value else {
        return Err(ManifestError::new(path, "must be an array of strings"));
    };
    items
        .iter()
        .enumerate()
        .map(|(i, v)| {
            v.as_str()
                .map(str::to_owned)
                .ok_or_else(|| ManifestError::new(format!("{path}[{i}]"), "must be a string"))
        })
        .collect::<Result<Vec<_>>>()
        .map(Some)
}

/// Store and database labels become file names, so they are held to a safe alphabet.
fn label_list(table: &Table, field: &str, key: &str) -> Result<Vec<String>> {
    let labels = string_list(table, field, key)?.unwrap_or_default();
    let mut seen = BTreeSet::new();
    for (i, label) in labels.iter().enumerate() {
        let valid = !label.is_empty()
            && label.len() <= 64
            && label
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
            && label.as_bytes()[0].is_ascii_alphanumeric();
        if !valid {
            return Err(ManifestError::new(
                format!("{field}.{key}[{i}]"),
                format!(
                    "label `{label}` must be 1..64 of [a-z0-9_-], starting with a letter or digit"
                ),
            ));
        }
        if !seen.insert(label) {
            return Err(ManifestError::new(
                format!("{field}.{key}[{i}]"),
                format!("label `{label}` is listed twice"),
            ));
        }
    }
    Ok(labels)
}

fn string_table(table: &Table, field: &str, key: &str) -> Result<BTreeMap<String, String>> {
    let Some(value) = table.get(key) else {
        return Ok(BTreeMap::new());
    };
    let path = format!("{field}.{key}");
    as_table(value, &path)?
        .iter()
        .map(|(k, v)| {
            v.as_str()
                .map(|s| (k.clone(), s.to_owned()))
                .ok_or_else(|| ManifestError::new(format!("{path}.{k}"), "must be a string"))
        })
        .collect()
}

fn check_variable_name(name: &str, field: &str) -> Result<()> {
    if is_valid_variable_name(name) {
        Ok(())
    } else {
        Err(ManifestError::new(
            field,
            format!(
                "variable name `{name}` must be lowercase letters, digits and `_`, starting with a letter"
            ),
        ))
    }
}

fn check_component_id(id: &str, field: &str) -> Result<()> {
    let valid = !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        && id.as_bytes()[0].is_ascii_lowercase();
    if valid {
        Ok(())
    } else {
        Err(ManifestError::new(
            field,
            format!(
                "component id `{id}` must be lowercase letters, digits, `-` or `_`, starting with a letter"
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
spin_manifest_version = 2

[application]
name = "demo"
version = "0.1.0"
description = "ignored"

[variables]
api_token = { default = "" }
region = { required = true }

[[trigger.http]]
route = "/api/..."
component = "api"

[[trigger.http]]
route = "/..."
component = "web"

[component.api]
source = "target/api.wasm"
key_value_stores = ["default"]
sqlite_databases = ["default", "audit"]
allowed_outbound_hosts = ["https://example.com"]
[component.api.variables]
api_token = "{{ api_token }}"
[component.api.build]
command = "cargo build"

[component.web]
source = "web.wasm"
"#;

    fn refused(text: &str) -> ManifestError {
        parse(text, Path::new("/m")).expect_err("manifest should be refused")
    }

    fn with(extra_component_line: &str) -> String {
        GOOD.replace(
            "source = \"web.wasm\"",
            &format!("source = \"web.wasm\"\n{extra_component_line}"),
        )
    }

    #[test]
    fn accepts_the_subset_and_resolves_sources_against_the_manifest_dir() {
        let m = parse(GOOD, Path::new("/srv/app")).expect("valid manifest");
        assert_eq!(m.application.name, "demo");
        assert_eq!(m.http_triggers.len(), 2);
        let api = &m.components["api"];
        assert_eq!(api.source, Path::new("/srv/app/target/api.wasm"));
        assert_eq!(api.sqlite_databases, ["default", "audit"]);
        assert_eq!(api.variables["api_token"], "{{ api_token }}");
        assert!(m.variables["region"].required);
        assert_eq!(m.variables["api_token"].default.as_deref(), Some(""));
    }

    #[test]
    fn the_repository_manifest_is_accepted() {
        let text = include_str!("../../../spin.toml");
        let m = parse(text, Path::new("/repo")).expect("spin.toml must be servable");
        assert!(m.components.contains_key("api"));
        assert!(m.components.contains_key("web"));
    }

    #[test]
    fn unknown_trigger_type_is_refused_naming_it() {
        let e = refused(&format!(
            "{GOOD}\n[[trigger.redis]]\nchannel = \"x\"\ncomponent = \"api\"\n"
        ));
        assert_eq!(e.field, "trigger.redis");
    }

    #[test]
    fn url_source_is_refused_naming_the_field() {
        let text = GOOD.replace(
            "source = \"web.wasm\"",
            "source = { url = \"https://x/y.wasm\", digest = \"sha256:00\" }",
        );
        assert_eq!(refused(&text).field, "component.web.source");
    }

    #[test]
    fn inline_component_is_refused() {
        let text = GOOD.replace("component = \"web\"", "component = { source = \"x.wasm\" }");
        assert_eq!(refused(&text).field, "trigger.http[1].component");
    }

    #[test]
    fn undefined_component_reference_is_refused() {
        let text = GOOD.replace("component = \"web\"", "component = \"nope\"");
        let e = refused(&text);
        assert_eq!(e.field, "trigger.http[1].component");
        assert!(e.message.contains("nope"), "{e}");
    }

    #[test]
    fn duplicate_route_is_refused() {
        let text = GOOD.replace("route = \"/...\"", "route = \"/api/...\"");
        let e = refused(&text);
        assert_eq!(e.field, "trigger.http[1].route");
        assert!(e.message.contains("trigger.http[0]"), "{e}");
    }

    #[test]
    fn behaviour_changing_fields_are_refused() {
        assert_eq!(
            refused(&with("files = [\"static/**\"]")).field,
            "component.web.files"
        );
        assert_eq!(
            refused(&with("allowed_http_hosts = [\"x.com\"]")).field,
            "component.web.allowed_http_hosts"
        );
        let e = refused(&GOOD.replace(
            "[application]",
            "[application.trigger.http]\nbase = \"/x\"\n[application]",
        ));
        assert!(e.field.starts_with("application"), "{e}");
    }

    #[test]
    fn wrong_manifest_version_is_refused() {
        let e = refused(&GOOD.replace("spin_manifest_version = 2", "spin_manifest_version = 1"));
        assert_eq!(e.field, "spin_manifest_version");
    }

    #[test]
    fn path_like_labels_are_refused() {
        let text = GOOD.replace("[\"default\", \"audit\"]", "[\"../escape\"]");
        assert_eq!(refused(&text).field, "component.api.sqlite_databases[0]");
    }

    #[test]
    fn bad_outbound_host_is_refused_with_its_index() {
        let text = GOOD.replace(
            "\"https://example.com\"",
            "\"https://ok.com\", \"https://x.com/path\"",
        );
        assert_eq!(
            refused(&text).field,
            "component.api.allowed_outbound_hosts[1]"
        );
    }

    #[test]
    fn malformed_template_is_refused() {
        let text = GOOD.replace("\"{{ api_token }}\"", "\"{{ api_token \"");
        assert_eq!(refused(&text).field, "component.api.variables.api_token");
    }

    #[test]
    fn route_with_parameters_is_refused() {
        let text = GOOD.replace("route = \"/api/...\"", "route = \"/api/:id\"");
        assert_eq!(refused(&text).field, "trigger.http[0].route");
    }

    #[test]
    fn private_routes_are_accepted_but_not_routed() {
        let text = GOOD.replace("route = \"/...\"", "route = { private = true }");
        let m = parse(&text, Path::new("/m")).expect("valid");
        assert_eq!(m.http_triggers[1].route, None);
    }
}
