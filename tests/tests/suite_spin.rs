//! The core API scenarios on Spin (`spin up` with the repository's spin.toml), one
//! at a time. Skipped, with a line saying so, where no `spin` binary is found.

integration::api_suite!(all: integration::targets::SpinTarget);
