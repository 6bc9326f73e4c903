//! The API scenarios on the real tracker-host with the API in PostgreSQL mode,
//! against a real PostgreSQL server, over real HTTP.

integration::api_suite!(all: integration::targets::PostgresTarget);
