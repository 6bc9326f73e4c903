//! `fermyon:spin/variables@2.0.0`: application variables (manifest defaults,
//! overridden by `SPIN_VARIABLE_<NAME>` as Spin's environment provider does)
//! feeding each component's `{{ name }}` templates, resolved once at start-up.

use std::collections::BTreeMap;
use std::sync::Arc;

use anyhow::{anyhow, bail};
use wasmtime::component::HasData;

use super::bindings::fermyon::spin::variables::{self, Error};
use crate::manifest::{ComponentDecl, VariableDecl, is_valid_variable_name};

/// Prefix of the environment variables that override application variables.
pub const ENV_PREFIX: &str = "SPIN_VARIABLE_";

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(String),
    Variable(String),
}

/// A component variable value such as `"Bearer {{ api_token }}"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template(Vec<Part>);

impl Template {
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find("{{") {
            if open > 0 {
                parts.push(Part::Literal(rest[..open].to_owned()));
            }
            let after = &rest[open + 2..];
            let close = after
                .find("}}")
                .ok_or_else(|| format!("unterminated `{{{{` in `{text}`"))?;
            let name = after[..close].trim();
            if !is_valid_variable_name(name) {
                return Err(format!("`{{{{ {name} }}}}` does not name a variable"));
            }
            parts.push(Part::Variable(name.to_owned()));
            rest = &after[close + 2..];
        }
        if !rest.is_empty() {
            parts.push(Part::Literal(rest.to_owned()));
        }
        Ok(Self(parts))
    }

    fn render(&self, values: &BTreeMap<String, String>) -> Result<String, String> {
        let mut out = String::new();
        for part in &self.0 {
            match part {
                Part::Literal(s) => out.push_str(s),
                Part::Variable(name) => out.push_str(
                    values
                        .get(name)
                        .ok_or_else(|| format!("refers to undeclared variable `{name}`"))?,
                ),
            }
        }
        Ok(out)
    }
}

/// Application variable values: the environment beats the manifest default.
pub fn resolve_application(
    decls: &BTreeMap<String, VariableDecl>,
    env: impl Fn(&str) -> Option<String>,
) -> anyhow::Result<BTreeMap<String, String>> {
    let mut values = BTreeMap::new();
    for (name, decl) in decls {
        let env_name = format!("{ENV_PREFIX}{}", name.to_ascii_uppercase());
        let value = match (env(&env_name), &decl.default) {
            (Some(v), _) => v,
            (None, Some(default)) => default.clone(),
            (None, None) => bail!("variables.{name}: required but not set (set {env_name})"),
        };
        values.insert(name.clone(), value);
    }
    Ok(values)
}

/// A component's configuration: its template names rendered from application values.
pub fn resolve_component(
    component: &ComponentDecl,
    app_values: &BTreeMap<String, String>,
) -> anyhow::Result<BTreeMap<String, String>> {
    component
        .variables
        .iter()
        .map(|(name, text)| {
            let field = format!("component.{}.variables.{name}", component.id);
            let template = Template::parse(text).map_err(|e| anyhow!("{field}: {e}"))?;
            let value = template
                .render(app_values)
                .map_err(|e| anyhow!("{field}: {e}"))?;
            Ok((name.clone(), value))
        })
        .collect()
}

pub struct VariablesCtx {
    values: Arc<BTreeMap<String, String>>,
}

impl VariablesCtx {
    pub fn new(values: Arc<BTreeMap<String, String>>) -> Self {
        Self { values }
    }

    fn get(&self, name: &str) -> Result<String, Error> {
        if !is_valid_variable_name(name) {
            return Err(Error::InvalidName(format!(
                "`{name}` is not a valid variable name"
            )));
        }
        self.values
            .get(name)
            .cloned()
            .ok_or_else(|| Error::Undefined(format!("no variable named `{name}`")))
    }
}

pub struct Variables;

impl HasData for Variables {
    type Data<'a> = &'a mut VariablesCtx;
}

pub fn add_to_linker<T: Send + 'static>(
    linker: &mut wasmtime::component::Linker<T>,
    view: fn(&mut T) -> &mut VariablesCtx,
) -> wasmtime::Result<()> {
    variables::add_to_linker::<T, Variables>(linker, view)
}

impl variables::Host for &mut VariablesCtx {
    async fn get(&mut self, name: String) -> wasmtime::Result<Result<String, Error>> {
        Ok(VariablesCtx::get(self, &name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn decl(default: Option<&str>) -> VariableDecl {
        VariableDecl {
            default: default.map(str::to_owned),
            required: default.is_none(),
            secret: false,
        }
    }

    fn component(vars: &[(&str, &str)]) -> ComponentDecl {
        ComponentDecl {
            id: "api".into(),
            source: PathBuf::from("x.wasm"),
            key_value_stores: vec![],
            sqlite_databases: vec![],
            allowed_outbound_hosts: vec![],
            variables: vars
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            environment: BTreeMap::new(),
        }
    }

    #[test]
    fn template_renders_literals_and_variables() {
        let t = Template::parse("Bearer {{ token }}/{{region}}!").expect("valid");
        let values = BTreeMap::from([
            ("token".to_string(), "abc".to_string()),
            ("region".to_string(), "eu".to_string()),
        ]);
        assert_eq!(t.render(&values).expect("render"), "Bearer abc/eu!");
        assert_eq!(
            Template::parse("plain")
                .expect("valid")
                .render(&values)
                .expect("render"),
            "plain"
        );
    }

    #[test]
    fn malformed_templates_are_rejected() {
        assert!(Template::parse("{{ token").is_err());
        assert!(Template::parse("{{ Not-Valid }}").is_err());
        assert!(Template::parse("{{}}").is_err());
    }

    #[test]
    fn environment_overrides_the_default() {
        let decls = BTreeMap::from([
            ("api_token".to_string(), decl(Some(""))),
            ("region".to_string(), decl(Some("eu"))),
        ]);
        let values = resolve_application(&decls, |name| {
            (name == "SPIN_VARIABLE_API_TOKEN").then(|| "s3cret".to_string())
        })
        .expect("resolved");
        assert_eq!(values["api_token"], "s3cret");
        assert_eq!(values["region"], "eu");
    }

    #[test]
    fn required_variable_without_value_names_the_variable_and_env_var() {
        let decls = BTreeMap::from([("region".to_string(), decl(None))]);
        let e = resolve_application(&decls, |_| None).expect_err("must fail");
        let msg = e.to_string();
        assert!(msg.contains("variables.region"), "{msg}");
        assert!(msg.contains("SPIN_VARIABLE_REGION"), "{msg}");
    }

    #[test]
    fn component_template_referring_to_undeclared_variable_is_an_error() {
        let values = BTreeMap::new();
        let e = resolve_component(&component(&[("token", "{{ missing }}")]), &values)
            .expect_err("must fail");
        assert!(
            e.to_string().contains("component.api.variables.token"),
            "{e}"
        );
    }

    #[test]
    fn get_distinguishes_invalid_and_undefined_names() {
        let ctx = VariablesCtx::new(Arc::new(BTreeMap::from([(
            "api_token".to_string(),
            "v".to_string(),
        )])));
        assert_eq!(ctx.get("api_token").expect("defined"), "v");
        assert!(matches!(ctx.get("other"), Err(Error::Undefined(_))));
        assert!(matches!(ctx.get("Bad-Name"), Err(Error::InvalidName(_))));
    }
}
