//! SkillTrack courses & settings API.
//!
//! The domain is plain Rust behind [`Backend`]; [`handle`] is the whole API as
//! a function from [`Request`] to [`Response`]. On wasm32 `spin_backend` wires
//! it to Spin's SQLite, key-value and variables; with the `native` feature
//! [`native::NativeBackend`] runs the same handlers and SQL on rusqlite.

pub mod accounts;
pub mod activity;
pub mod auth;
pub mod backend;
pub mod calendar;
pub mod cors;
pub mod csv;
pub mod dates;
pub mod errors;
pub mod http;
pub mod ics;
pub mod library;
pub mod model;
pub mod routes;
pub mod settings;
pub mod store;
pub mod store_move;
pub mod sync;
pub mod transfer;

#[cfg(feature = "native")]
pub mod native;

#[cfg(target_arch = "wasm32")]
mod spin_backend;

pub use backend::{Backend, BackendError, Value};
pub use http::{Request, Response};
pub use routes::{ROUTES, Route};

/// Answer one request. Never panics on any input; every failure is a JSON error.
pub fn handle(backend: &impl Backend, req: Request) -> Response {
    routes::handle(backend, &req)
}
