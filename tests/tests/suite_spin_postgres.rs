//! The API scenarios on Spin (`spin up` with the repository's spin.toml) with the
//! API in PostgreSQL mode: the same component, unmodified, reading `database_url`
//! as tracker-host gives it. Skipped, with a line saying so, where no `spin` binary
//! is found.

integration::api_suite!(all: integration::targets::SpinPostgresTarget);
