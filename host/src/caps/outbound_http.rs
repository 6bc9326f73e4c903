//! Outbound HTTP from components (`wasi:http/outgoing-handler`).
//!
//! Binding: wasmtime-wasi-http's hooks, which deny a request unless the
//! component's `allowed_outbound_hosts` lists its destination. Backend: a
//! [`Transport`] that sends what is allowed; [`Direct`] is wasmtime-wasi-http's
//! own client.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;

use wasmtime::component::Linker;
use wasmtime_wasi_http::{Error, RequestOptions, WasiBody, WasiHttpHooks};

use super::{Capability, Setup, View};
use crate::host_state::HostState;
use crate::manifest::ComponentDecl;
use crate::manifest::allowed_hosts::AllowList;

type ResponseIo = Box<dyn Future<Output = Result<(), Error>> + Send>;
type Sent = Box<dyn Future<Output = Result<(http::Response<WasiBody>, ResponseIo), Error>> + Send>;

/// How an allowed request leaves the host.
pub trait Transport: Send + Sync {
    fn send(&self, request: http::Request<WasiBody>, options: Option<RequestOptions>) -> Sent;
}

/// Straight to the destination, with wasmtime-wasi-http's client.
pub struct Direct;

impl Transport for Direct {
    fn send(&self, request: http::Request<WasiBody>, options: Option<RequestOptions>) -> Sent {
        Box::new(async move {
            use http_body_util::BodyExt;
            let (response, io) = wasmtime_wasi_http::default_send_request(request, options).await?;
            Ok((
                response.map(BodyExt::boxed_unsync),
                Box::new(io) as ResponseIo,
            ))
        })
    }
}

/// The capability: the transport every component's allowed requests take.
pub struct OutboundHttp {
    transport: Arc<dyn Transport>,
    app_values: BTreeMap<String, String>,
}

impl Capability for OutboundHttp {
    type Grant = Arc<AllowList>;
    type Instance = OutboundHooks;

    fn open(setup: &Setup<'_>) -> anyhow::Result<Self> {
        Ok(Self {
            transport: Arc::new(Direct),
            app_values: setup.app_values.clone(),
        })
    }

    fn grant(&self, component: &ComponentDecl) -> anyhow::Result<Self::Grant> {
        Ok(Arc::new(component.allow_list(&self.app_values)?))
    }

    fn instance(&self, grant: &Self::Grant) -> OutboundHooks {
        OutboundHooks {
            allowed: grant.clone(),
            transport: self.transport.clone(),
        }
    }

    /// Nothing to add: `wasi:http` is linked with WASI (engine.rs), and these
    /// hooks reach it through the store's `WasiHttpView`.
    fn add_to_linker(
        _: &mut Linker<HostState>,
        _: fn(&mut HostState) -> View<'_, OutboundHooks>,
    ) -> anyhow::Result<()> {
        Ok(())
    }
}

/// The `wasi:http` hooks of one instance: everything default except that
/// requests go out only to allowed destinations.
pub struct OutboundHooks {
    allowed: Arc<AllowList>,
    transport: Arc<dyn Transport>,
}

impl WasiHttpHooks for OutboundHooks {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        fut: ResponseIo,
    ) -> Sent {
        _ = fut;
        if !self.allowed.allows_uri(request.uri()) {
            tracing::warn!(uri = %request.uri(), "outbound request denied by allowed_outbound_hosts");
            return Box::new(async { Err(Error::HttpRequestDenied) });
        }
        self.transport.send(request, options)
    }
}
