//! SkillTrack's static component: serves the browser app (`web/dist`, embedded at
//! build time by build.rs) over plain WASI HTTP 0.2, so it runs under Spin,
//! tracker-host and `wasmtime serve -Scli` alike.
//!
//! Everything but the WASI glue is plain Rust and unit-tested natively.

// Natively only the unit tests call into the modules below; the wasm build uses all.
#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]

#[cfg(test)]
mod content_type; // shared with build.rs, declared here so its tests run
mod embedded;
mod etag;
mod negotiate;
mod path;
mod serve;
#[cfg(target_arch = "wasm32")]
mod wasi_http;
