//! The ways the suite serves the API. Each is a [`Target`](crate::suite::Target)
//! with a test file of its own (`tests/suite_<name>.rs`).

pub mod host;
pub mod native;
pub mod postgres;
pub mod spin;

pub use host::HostTarget;
pub use native::NativeTarget;
pub use postgres::PostgresTarget;
pub use spin::{SpinPostgresTarget, SpinTarget};

/// `SPIN_VARIABLE_<NAME>` for each Spin variable, as Spin's environment provider
/// (and tracker-host) read them.
pub fn spin_variable_env(variables: &[(&str, &str)]) -> Vec<(String, String)> {
    variables
        .iter()
        .map(|(name, value)| {
            (
                format!("SPIN_VARIABLE_{}", name.to_ascii_uppercase()),
                (*value).to_owned(),
            )
        })
        .collect()
}
