//! The API scenarios on the real tracker-host serving the real components from
//! spin.toml, over real HTTP.

integration::api_suite!(all: integration::targets::HostTarget);
