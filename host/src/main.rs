//! tracker-host: serves the WASI HTTP components of a Spin manifest on wasmtime,
//! with Spin's SQLite, key-value and variables capabilities.

mod admin;
mod app;
mod backup;
mod caps;
mod client;
mod conn_limits;
mod data_dir;
mod database;
mod engine;
mod files;
mod fleet;
mod host_state;
mod limits;
mod listener;
mod log_writer;
mod manifest;
mod metrics;
mod pg_tls;
mod respond;
mod router;
mod server;
mod slot;
mod stamps;
mod stores_elsewhere;
mod swap;
mod versions;
mod watch;

use std::io::IsTerminal as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand, ValueEnum};

const DEFAULT_MANIFEST: &str = "spin.toml";
const DEFAULT_LISTEN: &str = "127.0.0.1:3000";
const DEFAULT_DATA_DIR: &str = "./data";
const DEFAULT_REQUEST_TIMEOUT: &str = "30s";
const DEFAULT_MAX_MEMORY: &str = "128MiB";
const DEFAULT_MAX_BODY: &str = "16MiB";
const DEFAULT_MAX_CONCURRENT_REQUESTS: u32 = 100;
const DEFAULT_ADMIN_LISTEN: &str = "127.0.0.1:3001";
const DEFAULT_ADMIN_URL: &str = "http://127.0.0.1:3001";
const DEFAULT_LOG_FILTER: &str = "info,cranelift_codegen=warn,wasmtime=warn";

#[derive(Parser)]
#[command(name = "tracker-host", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the manifest's HTTP components until SIGTERM or SIGINT.
    Up(Box<UpArgs>),
    /// Write the data dir's databases and key-value store to one backup file
    /// (SQLite's online backup API: safe while `up` runs and writes).
    Backup(BackupArgs),
    /// Replace a data dir's data with a backup's, after verifying it; refused while
    /// `up` runs on that data dir.
    Restore(RestoreArgs),
    /// Upload a new version of a component to a running host (hot swap); exits
    /// non-zero when the host rejects it.
    Swap(SwapArgs),
    /// Make a component's previous version active again on a running host.
    Rollback(RollbackArgs),
    /// List each component's active and previous version on a running host.
    Versions(AdminClientArgs),
}

#[derive(Args)]
struct AdminClientArgs {
    /// The running host's admin API.
    #[arg(long = "admin", env = "TRACKER_ADMIN_URL", default_value = DEFAULT_ADMIN_URL)]
    url: String,

    /// Bearer token of the admin API, if it requires one.
    #[arg(long, env = "TRACKER_ADMIN_TOKEN", hide_env_values = true)]
    admin_token: Option<String>,
}

impl AdminClientArgs {
    fn target(&self) -> admin::client::Target {
        admin::client::Target {
            url: self.url.clone(),
            token: self.admin_token.clone(),
        }
    }
}

#[derive(Args)]
struct SwapArgs {
    /// Component id in the manifest (e.g. `api`).
    name: String,
    /// The new `.wasm` file.
    file: PathBuf,
    #[command(flatten)]
    admin: AdminClientArgs,
}

#[derive(Args)]
struct RollbackArgs {
    /// Component id in the manifest.
    name: String,
    #[command(flatten)]
    admin: AdminClientArgs,
}

/// `--admin-listen`: an address, or `off`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct AdminListen(Option<SocketAddr>);

fn parse_admin_listen(text: &str) -> Result<AdminListen, String> {
    if text.trim().eq_ignore_ascii_case("off") {
        return Ok(AdminListen(None));
    }
    text.trim()
        .parse()
        .map(|addr| AdminListen(Some(addr)))
        .map_err(|_| format!("`{text}` is not an address like 127.0.0.1:3001 (or `off`)"))
}

#[derive(Args)]
struct BackupArgs {
    /// Data directory to back up.
    #[arg(long, env = "TRACKER_DATA_DIR", default_value = DEFAULT_DATA_DIR)]
    data_dir: PathBuf,

    /// Backup file to write (replaced atomically); `-` writes to standard output.
    #[arg(long)]
    out: PathBuf,

    /// The app's manifest: read only to say which data lives outside the data dir.
    #[arg(long, env = "TRACKER_MANIFEST", default_value = DEFAULT_MANIFEST)]
    manifest: PathBuf,
}

#[derive(Args)]
struct RestoreArgs {
    /// Data directory to restore into (created if missing).
    #[arg(long, env = "TRACKER_DATA_DIR", default_value = DEFAULT_DATA_DIR)]
    data_dir: PathBuf,

    /// Backup file to read; `-` reads standard input.
    #[arg(long)]
    from: PathBuf,

    /// Replace data already in the data dir (it is moved to `pre-restore-<time>/`).
    #[arg(long)]
    force: bool,

    /// Only check the backup (format, checksums, integrity); change nothing.
    #[arg(long)]
    verify_only: bool,

    /// The app's manifest: read only to say which data lives outside the data dir.
    #[arg(long, env = "TRACKER_MANIFEST", default_value = DEFAULT_MANIFEST)]
    manifest: PathBuf,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Args)]
struct UpArgs {
    /// The Spin manifest to serve; component sources are relative to it.
    #[arg(long, env = "TRACKER_MANIFEST", default_value = DEFAULT_MANIFEST)]
    manifest: PathBuf,

    /// Address to listen on for HTTP (port 0 picks a free port).
    #[arg(long, env = "TRACKER_LISTEN", default_value = DEFAULT_LISTEN)]
    listen: SocketAddr,

    /// Directory for databases, compiled-component cache and the instance lock.
    #[arg(long, env = "TRACKER_DATA_DIR", default_value = DEFAULT_DATA_DIR)]
    data_dir: PathBuf,

    /// Log line format.
    #[arg(long, env = "TRACKER_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,

    /// Wall-clock limit per request (e.g. 30s, 500ms); past it the request gets a 503.
    #[arg(long, env = "TRACKER_REQUEST_TIMEOUT", default_value = DEFAULT_REQUEST_TIMEOUT, value_parser = parse_duration)]
    request_timeout: Duration,

    /// Linear-memory cap per instance memory (e.g. 128MiB).
    #[arg(long, env = "TRACKER_MAX_MEMORY", default_value = DEFAULT_MAX_MEMORY, value_parser = parse_size)]
    max_memory: u64,

    /// Largest accepted request body (e.g. 16MiB); larger gets a 413.
    #[arg(long, env = "TRACKER_MAX_BODY", default_value = DEFAULT_MAX_BODY, value_parser = parse_size)]
    max_body: u64,

    /// Requests running at once (instances in the pool); more wait for a slot.
    #[arg(long, env = "TRACKER_MAX_CONCURRENT_REQUESTS", default_value_t = DEFAULT_MAX_CONCURRENT_REQUESTS)]
    max_concurrent_requests: u32,

    /// Address of the admin API (versions, hot swap, rollback, metrics), or `off`.
    /// A non-loopback address requires --admin-token.
    #[arg(long, env = "TRACKER_ADMIN_LISTEN", default_value = DEFAULT_ADMIN_LISTEN, value_parser = parse_admin_listen)]
    admin_listen: AdminListen,

    /// Bearer token every admin request must carry.
    #[arg(long, env = "TRACKER_ADMIN_TOKEN", hide_env_values = true)]
    admin_token: Option<String>,

    /// Do not watch component source files for new versions.
    #[arg(long, env = "TRACKER_NO_WATCH")]
    no_watch: bool,

    /// Fleet mode: keep component versions in this PostgreSQL database
    /// (postgres:// or postgresql://, sslmode disable/prefer/require) shared by
    /// every replica, so a swap or rollback on one reaches all of them.
    #[arg(long, env = "TRACKER_FLEET_DATABASE_URL", hide_env_values = true)]
    fleet_database_url: Option<String>,

    /// This replica's name in the fleet's status rows (default: $HOSTNAME, else
    /// the host name, else a random id).
    #[arg(long, env = "TRACKER_REPLICA_ID")]
    replica_id: Option<String>,

    #[command(flatten)]
    conn: conn_limits::ConnArgs,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Up(args) => up(*args),
        // The notices come first: they matter most when the data dir holds nothing.
        Command::Backup(a) => {
            print_notices(&a.manifest);
            backup::backup(&a.data_dir, &a.out).map(|r| eprintln!("{r}"))
        }
        Command::Restore(a) if a.verify_only => backup::verify(&a.from).map(|r| eprintln!("{r}")),
        Command::Restore(a) => {
            print_notices(&a.manifest);
            backup::restore(&a.from, &a.data_dir, a.force).map(|r| eprintln!("{r}"))
        }
        Command::Swap(a) => admin::client::swap(&a.admin.target(), &a.name, &a.file),
        Command::Rollback(a) => admin::client::rollback(&a.admin.target(), &a.name),
        Command::Versions(a) => admin::client::versions(&a.target()),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Stores a backup or restore does not cover, on stderr.
fn print_notices(manifest: &std::path::Path) {
    let env = |name: &str| std::env::var(name).ok();
    for note in stores_elsewhere::notices(manifest, &env) {
        eprintln!("note: {note}");
    }
}

/// Log lines go to stderr through [`log_writer`] (off the request path, many lines per
/// write); the returned guard writes out what is pending when dropped, so hold it.
fn init_logging(format: LogFormat) -> log_writer::FlushGuard {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(DEFAULT_LOG_FILTER));
    let (writer, guard) = log_writer::stderr();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(writer);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
    guard
}

/// Validates everything, compiles every component and binds before announcing
/// "listening on"; a bad manifest or component is one message and a non-zero exit.
fn up(args: UpArgs) -> anyhow::Result<()> {
    let _log_writer = init_logging(args.log_format);

    let admin_token = args.admin_token.clone().filter(|t| !t.is_empty());
    if let AdminListen(Some(addr)) = args.admin_listen {
        anyhow::ensure!(
            addr.ip().is_loopback() || admin_token.is_some(),
            "--admin-listen {addr} is not a loopback address: set --admin-token (or \
             TRACKER_ADMIN_TOKEN) so the admin API is not open to the network, or use \
             --admin-listen off"
        );
    }

    let fleet = match args.fleet_database_url.as_deref().map(str::trim) {
        Some(url) if !url.is_empty() => Some(Arc::new(fleet::Fleet::new(
            &fleet::FleetOptions {
                url: url.to_owned(),
                replica_id: args
                    .replica_id
                    .clone()
                    .filter(|id| !id.trim().is_empty())
                    .unwrap_or_else(fleet::default_replica_id),
            },
            pg_tls::Tls::new()?,
        )?)),
        _ => None,
    };

    let manifest = manifest::load(&args.manifest)?;
    let max_memory = usize::try_from(args.max_memory).context("--max-memory is too large")?;
    anyhow::ensure!(
        args.max_concurrent_requests > 0,
        "--max-concurrent-requests must be at least 1"
    );
    let limits = limits::Limits {
        request_timeout: args.request_timeout,
        max_memory,
        max_body: args.max_body,
    };
    let conn_limits = args.conn.resolve(args.request_timeout)?;

    let data = data_dir::DataDir::new(&args.data_dir);
    let _lock = data.lock().map_err(|e| match e {
        data_dir::LockError::Held(path) => anyhow::anyhow!(
            "data directory {} is in use by another tracker-host (lock held on {})",
            data.root().display(),
            path.display()
        ),
        data_dir::LockError::Io(e) => e,
    })?;
    let runtime = Arc::new(engine::Runtime::new(
        &engine::EngineOptions {
            max_instances: args.max_concurrent_requests,
            max_memory,
        },
        &data.cache_dir(),
    )?);
    tracing::info!(allocator = ?runtime.allocator, data_dir = %data.root().display(), "engine ready");
    let env = |name: &str| std::env::var(name).ok();
    let app_values = caps::variables::resolve_application(
        &manifest.variables,
        &caps::variables::Environment(&env),
    )?;
    let setup = caps::Setup {
        manifest: &manifest,
        data: &data,
        env: &env,
        app_values: &app_values,
    };
    let app = Arc::new(app::App::load(&setup, &runtime)?);

    let listener = std::net::TcpListener::bind(args.listen)
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    listener.set_nonblocking(true)?;
    let local = listener.local_addr()?;
    let admin_listener = match args.admin_listen.0 {
        Some(addr) => {
            let l = std::net::TcpListener::bind(addr)
                .with_context(|| format!("cannot listen on {addr} (--admin-listen)"))?;
            l.set_nonblocking(true)?;
            Some(l)
        }
        None => None,
    };

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let _ticker = limits::EpochTicker::start(runtime.engine().clone());
    let server = Arc::new(server::Server::new(
        app.clone(),
        runtime.engine().clone(),
        limits,
        args.max_concurrent_requests,
    ));
    // Fleet mode: versions live in the database (the data dir keeps only the
    // compile cache); otherwise in <data>/components.
    let record = match &fleet {
        Some(fleet) => {
            tracing::info!(replica = %fleet.replica(), "fleet mode: component versions are kept in the fleet database");
            fleet.restore(&rt, &app.slots, &runtime, server.metrics())?;
            swap::Record::Fleet(fleet.clone())
        }
        None => {
            let versions = versions::VersionStore::open(&data.components_dir())?;
            versions.restore(&app.slots, &runtime, server.metrics())?;
            swap::Record::Disk(versions)
        }
    };
    let swapper = Arc::new(swap::Swapper::new(swap::SwapperParts {
        app: app.clone(),
        runtime: runtime.clone(),
        limits,
        metrics: server.metrics().clone(),
        candidates: server.candidates().clone(),
        instances: server.instances().clone(),
        record,
        triggers: manifest.http_triggers.clone(),
        listener: local,
    }));
    rt.block_on(async {
        let listener = tokio::net::TcpListener::from_std(listener)?;
        let admin_task = match admin_listener {
            Some(l) => {
                let l = tokio::net::TcpListener::from_std(l)?;
                tracing::info!(
                    token = admin_token.is_some(),
                    "admin API on http://{}",
                    l.local_addr()?
                );
                let admin = Arc::new(admin::Admin {
                    app: app.clone(),
                    swapper: swapper.clone(),
                    metrics: server.metrics().clone(),
                    bearer: admin_token.map(|t| format!("Bearer {t}")),
                });
                Some(tokio::spawn(admin.serve(
                    l,
                    conn_limits.for_admin(),
                    std::future::pending(),
                )))
            }
            None => None,
        };
        let _watch = if args.no_watch {
            None
        } else {
            let sources = manifest
                .components
                .iter()
                .map(|(id, c)| (id.clone(), c.source.clone()))
                .collect();
            Some(watch::start(sources, swapper.clone())?)
        };
        let follow_task = fleet
            .as_ref()
            .map(|fleet| tokio::spawn(fleet.clone().follow(swapper.clone())));
        tracing::info!(app = %app.name, version = %app.version, "listening on http://{local}");
        let served = server.serve(listener, conn_limits, shutdown_signal()).await;
        if let Some(task) = admin_task {
            task.abort();
        }
        if let Some(task) = follow_task {
            task.abort();
        }
        served
    })?;

    app.capabilities.shutdown();
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        tracing::warn!("cannot install signal handlers; stop with SIGKILL");
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM received"),
        _ = int.recv() => tracing::info!("SIGINT received"),
    }
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: f64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration like 30s or 500ms"))?;
    let seconds = match unit.trim() {
        "" | "s" => n,
        "ms" => n / 1000.0,
        "m" | "min" => n * 60.0,
        other => return Err(format!("unknown duration unit `{other}` (use ms, s or m)")),
    };
    if !(seconds.is_finite() && seconds > 0.0) {
        return Err(format!("`{text}` must be a positive duration"));
    }
    Ok(Duration::from_secs_f64(seconds))
}

fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: u64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a size like 16MiB"))?;
    let factor: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        other => return Err(format!("unknown size unit `{other}` (use KiB, MiB or GiB)")),
    };
    n.checked_mul(factor)
        .filter(|&bytes| bytes > 0)
        .ok_or_else(|| format!("`{text}` must be a positive size"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_sizes_parse_with_units() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2"), Ok(Duration::from_secs(2)));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("5h").is_err());
        assert_eq!(parse_size("128MiB"), Ok(128 << 20));
        assert_eq!(parse_size("64k"), Ok(64 << 10));
        assert_eq!(parse_size("1000"), Ok(1000));
        assert!(parse_size("0").is_err());
        assert!(parse_size("12XB").is_err());
    }

    #[test]
    fn cli_defaults_are_the_documented_ones() {
        let cli = Cli::try_parse_from(["tracker-host", "up"]).expect("defaults parse");
        let Command::Up(args) = cli.command else {
            panic!("`up` parses as Command::Up");
        };
        assert_eq!(args.manifest, PathBuf::from("spin.toml"));
        assert_eq!(args.listen.to_string(), "127.0.0.1:3000");
        assert_eq!(args.request_timeout, Duration::from_secs(30));
        assert_eq!(args.max_memory, 128 << 20);
        assert_eq!(args.max_body, 16 << 20);
    }

    #[test]
    fn fleet_mode_is_off_unless_a_database_url_is_given() {
        let cli = Cli::try_parse_from(["tracker-host", "up"]).expect("defaults parse");
        let Command::Up(args) = cli.command else {
            panic!("`up` parses as Command::Up");
        };
        assert_eq!(args.fleet_database_url, None);
        assert_eq!(args.replica_id, None);
        let cli = Cli::try_parse_from([
            "tracker-host",
            "up",
            "--fleet-database-url",
            "postgres://tracker@db/app",
            "--replica-id",
            "r1",
        ])
        .expect("fleet flags parse");
        let Command::Up(args) = cli.command else {
            panic!("`up` parses as Command::Up");
        };
        assert_eq!(
            args.fleet_database_url.as_deref(),
            Some("postgres://tracker@db/app")
        );
        assert_eq!(args.replica_id.as_deref(), Some("r1"));
    }
}
