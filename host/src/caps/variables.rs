//! `fermyon:spin/variables@2.0.0`: application variables feeding each
//! component's `{{ name }}` templates, resolved once at start-up.
//!
//! Binding: `get` answers from the component's rendered values. Backend: a
//! [`Provider`] of values that beat the manifest defaults; tracker-host has one,
//! the environment (`SPIN_VARIABLE_<NAME>`), as Spin's environment provider.

use std::collections::BTreeMap;
use std::sync::Arc;

use anyhow::{anyhow, bail};
use wasmtime::component::Linker;

use super::bindings::fermyon::spin::variables::{self, Error};
use super::{Capability, Setup, View, ViewOf};
use crate::host_state::HostState;
use crate::manifest::template::is_valid_variable_name;
use crate::manifest::{ComponentDecl, VariableDecl};

/// Where variable values come from, ahead of the manifest's defaults.
pub trait Provider {
    fn get(&self, name: &str) -> Option<String>;
    /// How an operator gives `name` a value (for the error when nothing does).
    fn how_to_set(&self, name: &str) -> String;
}

/// `SPIN_VARIABLE_<NAME>` environment variables.
pub struct Environment<'a>(pub &'a dyn Fn(&str) -> Option<String>);

impl Environment<'_> {
    /// Prefix of the environment variables that override application variables.
    pub const PREFIX: &'static str = "SPIN_VARIABLE_";

    fn var_name(name: &str) -> String {
        format!("{}{}", Self::PREFIX, name.to_ascii_uppercase())
    }
}

impl Provider for Environment<'_> {
    fn get(&self, name: &str) -> Option<String> {
        (self.0)(&Self::var_name(name))
    }

    fn how_to_set(&self, name: &str) -> String {
        format!("set {}", Self::var_name(name))
    }
}

/// Application variable values: the provider beats the manifest default.
pub fn resolve_application(
    decls: &BTreeMap<String, VariableDecl>,
    provider: &dyn Provider,
) -> anyhow::Result<BTreeMap<String, String>> {
    let mut values = BTreeMap::new();
    for (name, decl) in decls {
        let value = match (provider.get(name), &decl.default) {
            (Some(v), _) => v,
            (None, Some(default)) => default.clone(),
            (None, None) => bail!(
                "variables.{name}: required but not set ({})",
                provider.how_to_set(name)
            ),
        };
        values.insert(name.clone(), value);
    }
    Ok(values)
}

/// A component's configuration: its templates rendered from application values.
pub fn resolve_component(
    component: &ComponentDecl,
    app_values: &BTreeMap<String, String>,
) -> anyhow::Result<BTreeMap<String, String>> {
    component
        .variables
        .iter()
        .map(|(name, template)| {
            let value = template
                .render(app_values)
                .map_err(|e| anyhow!("component.{}.variables.{name}: {e}", component.id))?;
            Ok((name.clone(), value))
        })
        .collect()
}

/// The capability: application values, resolved at start-up.
pub struct Variables {
    app_values: BTreeMap<String, String>,
}

impl Capability for Variables {
    type Grant = Arc<BTreeMap<String, String>>;
    type Instance = VariablesCtx;

    fn open(setup: &Setup<'_>) -> anyhow::Result<Self> {
        Ok(Self {
            app_values: setup.app_values.clone(),
        })
    }

    fn grant(&self, component: &ComponentDecl) -> anyhow::Result<Self::Grant> {
        resolve_component(component, &self.app_values).map(Arc::new)
    }

    fn instance(&self, grant: &Self::Grant) -> VariablesCtx {
        VariablesCtx {
            values: grant.clone(),
        }
    }

    fn add_to_linker(
        linker: &mut Linker<HostState>,
        view: fn(&mut HostState) -> View<'_, VariablesCtx>,
    ) -> anyhow::Result<()> {
        Ok(variables::add_to_linker::<_, ViewOf<VariablesCtx>>(
            linker, view,
        )?)
    }
}

/// One instance's variables: its component's rendered values.
pub struct VariablesCtx {
    values: Arc<BTreeMap<String, String>>,
}

impl VariablesCtx {
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

impl variables::Host for View<'_, VariablesCtx> {
    async fn get(&mut self, name: String) -> wasmtime::Result<Result<String, Error>> {
        Ok(self.state.get(&name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::template::Template;
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
            allowed_outbound_hosts: Default::default(),
            variables: vars
                .iter()
                .map(|(k, v)| (k.to_string(), Template::parse(v).expect("template")))
                .collect(),
            environment: BTreeMap::new(),
        }
    }

    #[test]
    fn environment_overrides_the_default() {
        let decls = BTreeMap::from([
            ("api_token".to_string(), decl(Some(""))),
            ("region".to_string(), decl(Some("eu"))),
        ]);
        let env = |name: &str| (name == "SPIN_VARIABLE_API_TOKEN").then(|| "s3cret".to_string());
        let values = resolve_application(&decls, &Environment(&env)).expect("resolved");
        assert_eq!(values["api_token"], "s3cret");
        assert_eq!(values["region"], "eu");
    }

    #[test]
    fn required_variable_without_value_names_the_variable_and_env_var() {
        let decls = BTreeMap::from([("region".to_string(), decl(None))]);
        let e = resolve_application(&decls, &Environment(&|_| None)).expect_err("must fail");
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
        let ctx = VariablesCtx {
            values: Arc::new(BTreeMap::from([("api_token".to_string(), "v".to_string())])),
        };
        assert_eq!(ctx.get("api_token").expect("defined"), "v");
        assert!(matches!(ctx.get("other"), Err(Error::Undefined(_))));
        assert!(matches!(ctx.get("Bad-Name"), Err(Error::InvalidName(_))));
    }
}
