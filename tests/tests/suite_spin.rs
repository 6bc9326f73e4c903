//! The API scenarios on Spin (`spin up` with the repository's spin.toml), one at a
//! time. All of them, not only the core ones: a Spin start costs well under a
//! second, so the whole suite takes about half a minute. Skipped, with a line
//! saying so, where no `spin` binary is found.

integration::api_suite!(all: integration::targets::SpinTarget);
