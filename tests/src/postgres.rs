//! A real PostgreSQL server for a test: `initdb` and `pg_ctl` from
//! `/usr/lib/postgresql/15/bin` (Debian's `postgresql`, installed by `make deps`)
//! on a temp dir, listening on a free loopback port, stopped on drop.
//!
//! PostgreSQL refuses to run as root, and CI runs as root: then the server runs as
//! `nobody`, with the temp dir handed to it.
//!
//! [`PostgresOptions::tls`] turns on `ssl=on` with a self-signed certificate made by
//! the `openssl` CLI; [`Postgres::stop`] and [`Postgres::start_again`] restart the
//! same server on the same port (a database outage, as clients see one).

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

/// Where Debian's PostgreSQL 15 server binaries are (`$PG_BIN` overrides).
fn bin_dir() -> PathBuf {
    std::env::var_os("PG_BIN")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/lib/postgresql/15/bin"))
}

/// The database user the server is initialised with (trust authentication).
pub const USER: &str = "tracker";

/// How to start a test server; `Default` is plain TCP without TLS.
#[derive(Clone, Debug, Default)]
pub struct PostgresOptions {
    /// `ssl=on` with a fresh self-signed certificate (needs the `openssl` CLI).
    pub tls: bool,
}

/// A running server; stopped (immediately: it holds only test data) on drop.
pub struct Postgres {
    bin: PathBuf,
    data: PathBuf,
    port: u16,
    options: String,
    /// The uid/gid the server runs as when the tests run as root.
    run_as: Option<(u32, u32)>,
    // Removed after the server has stopped (fields drop in order).
    dir: tempfile::TempDir,
}

impl Postgres {
    /// Starts a server, or prints `skipped: postgresql not found` and answers `None`
    /// when the binaries are absent.
    pub fn start() -> Option<Postgres> {
        Postgres::start_with(PostgresOptions::default())
    }

    /// As [`Postgres::start`], with options; with `tls` and no `openssl` CLI it
    /// prints `skipped: ...` and answers `None` too.
    pub fn start_with(opts: PostgresOptions) -> Option<Postgres> {
        let bin = bin_dir();
        if !bin.join("initdb").exists() || !bin.join("pg_ctl").exists() {
            eprintln!(
                "skipped: postgresql not found ({} has no initdb/pg_ctl; `make deps` installs it)",
                bin.display()
            );
            return None;
        }
        let run_as = unprivileged_user();
        let dir = tempfile::tempdir().expect("postgres temp dir");
        if let Some((uid, gid)) = run_as {
            std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid)).expect("chown temp dir");
        }
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700))
            .expect("temp dir mode");
        if opts.tls && Command::new("openssl").arg("version").output().is_err() {
            eprintln!("skipped: the openssl CLI is needed to make the test server's certificate");
            return None;
        }
        let data = dir.path().join("data");
        let port = crate::free_port();
        // Loopback TCP only; the socket dir is the temp dir (the system one may not
        // be writable); no fsync: the data is thrown away.
        let mut options = format!(
            "-p {port} -c listen_addresses=127.0.0.1 -k {} -c fsync=off",
            dir.path().display()
        );
        if opts.tls {
            let (cert, key) = (dir.path().join("server.crt"), dir.path().join("server.key"));
            self_signed_certificate(&cert, &key, run_as);
            options.push_str(&format!(
                " -c ssl=on -c ssl_cert_file={} -c ssl_key_file={}",
                cert.display(),
                key.display()
            ));
        }
        let pg = Postgres {
            bin,
            data,
            port,
            options,
            run_as,
            dir,
        };
        pg.run(
            "initdb",
            &[
                "-D".as_ref(),
                pg.data.as_os_str(),
                "-U".as_ref(),
                USER.as_ref(),
                "--auth=trust".as_ref(),
                "-E".as_ref(),
                "UTF8".as_ref(),
                "--no-sync".as_ref(),
            ],
        );
        pg.start_again();
        Some(pg)
    }

    /// Starts the (stopped) server again, on the same port and data.
    pub fn start_again(&self) {
        let log = self.dir.path().join("server.log");
        self.run(
            "pg_ctl",
            &[
                "-D".as_ref(),
                self.data.as_os_str(),
                "-l".as_ref(),
                log.as_os_str(),
                "-o".as_ref(),
                self.options.as_ref(),
                "-w".as_ref(),
                "-t".as_ref(),
                "60".as_ref(),
                "start".as_ref(),
            ],
        );
    }

    /// Stops the server (`pg_ctl stop`, fast mode: sessions are ended) until
    /// [`Postgres::start_again`].
    pub fn stop(&self) {
        self.run(
            "pg_ctl",
            &[
                "-D".as_ref(),
                self.data.as_os_str(),
                "-m".as_ref(),
                "fast".as_ref(),
                "-w".as_ref(),
                "-t".as_ref(),
                "60".as_ref(),
                "stop".as_ref(),
            ],
        );
    }

    /// Stops the server at once (`immediate`: like a crash, no checkpoint).
    fn stop_now(&self) {
        let _ = self
            .command("pg_ctl")
            .arg("-D")
            .arg(&self.data)
            .args(["-m", "immediate", "-w", "stop"])
            .output();
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The address of database `postgres` for [`USER`], without TLS.
    pub fn url(&self) -> String {
        format!(
            "postgres://{USER}@127.0.0.1:{}/postgres?sslmode=disable",
            self.port
        )
    }

    /// The address of database `postgres` for [`USER`] with this `sslmode`.
    pub fn url_with_sslmode(&self, sslmode: &str) -> String {
        format!(
            "postgres://{USER}@127.0.0.1:{}/postgres?sslmode={sslmode}",
            self.port
        )
    }

    /// Runs `psql` against database `postgres` (plain TCP, never TLS) and answers
    /// its unaligned, tuples-only output; panics when it fails.
    pub fn psql(&self, sql: &str) -> String {
        self.psql_in("postgres", sql)
    }

    /// [`Self::psql`] in another database of this server, named as in the URLs
    /// [`Self::create_database`] answers (`.../<name>?...`) or by its name.
    pub fn psql_in(&self, database: &str, sql: &str) -> String {
        let name = database
            .rsplit_once('/')
            .map_or(database, |(_, tail)| tail)
            .split('?')
            .next()
            .unwrap_or(database);
        let out = self
            .command("psql")
            .env("PGSSLMODE", "disable")
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-U", USER])
            .args([
                "-d",
                name,
                "-X",
                "-A",
                "-t",
                "-v",
                "ON_ERROR_STOP=1",
                "-c",
                sql,
            ])
            .output()
            .expect("run psql");
        assert!(
            out.status.success(),
            "psql failed: {}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    fn command(&self, tool: &str) -> Command {
        let mut cmd = Command::new(self.bin.join(tool));
        cmd.current_dir(self.dir.path());
        if let Some((uid, gid)) = self.run_as {
            // std drops root's supplementary groups when it sets the uid.
            cmd.uid(uid).gid(gid);
        }
        cmd
    }

    fn run(&self, tool: &str, args: &[&std::ffi::OsStr]) -> Output {
        let out = self
            .command(tool)
            .args(args)
            .output()
            .expect("run a postgres tool");
        assert!(
            out.status.success(),
            "{tool} failed: {}\n{}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    pub fn data_dir(&self) -> &Path {
        &self.data
    }

    /// A new empty database on this server; answers its URL.
    pub fn create_database(&self) -> String {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "t{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let port = self.port.to_string();
        self.run(
            "createdb",
            &[
                "-h".as_ref(),
                "127.0.0.1".as_ref(),
                "-p".as_ref(),
                port.as_ref(),
                "-U".as_ref(),
                USER.as_ref(),
                name.as_ref(),
            ],
        );
        format!(
            "postgres://{USER}@127.0.0.1:{}/{name}?sslmode=disable",
            self.port
        )
    }

    /// `allowed_outbound_hosts` entry for this server, as spin.toml's
    /// `database_host` variable takes it.
    pub fn host_entry(&self) -> String {
        format!("postgres://127.0.0.1:{}", self.port)
    }
}

/// One server for the whole test process, each test in a database of its own
/// ([`Postgres::create_database`]): starting a server takes seconds, a database
/// milliseconds. Stopped and removed when the process exits. `None` when
/// PostgreSQL is not installed.
pub fn shared() -> Option<&'static Postgres> {
    static SHARED: OnceLock<Option<Postgres>> = OnceLock::new();
    extern "C" fn stop_shared() {
        if let Some(Some(pg)) = SHARED.get() {
            pg.stop_now();
            let _ = std::fs::remove_dir_all(pg.dir.path());
        }
    }
    SHARED
        .get_or_init(|| {
            let pg = Postgres::start()?;
            // SAFETY: registers a plain function; it runs once, at exit.
            unsafe { libc::atexit(stop_shared) };
            Some(pg)
        })
        .as_ref()
}

impl Drop for Postgres {
    fn drop(&mut self) {
        self.stop_now();
    }
}

/// A self-signed certificate and its key for 127.0.0.1, the key readable only by
/// the server's user (PostgreSQL refuses a key others can read).
fn self_signed_certificate(cert: &Path, key: &Path, run_as: Option<(u32, u32)>) {
    let out = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        ])
        .args(["-subj", "/CN=127.0.0.1"])
        .arg("-keyout")
        .arg(key)
        .arg("-out")
        .arg(cert)
        .output()
        .expect("run openssl");
    assert!(
        out.status.success(),
        "openssl req failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::set_permissions(key, std::fs::Permissions::from_mode(0o600)).expect("key mode");
    if let Some((uid, gid)) = run_as {
        for file in [cert, key] {
            std::os::unix::fs::chown(file, Some(uid), Some(gid)).expect("chown certificate");
        }
    }
}

/// `nobody`'s uid and gid when this process is root (PostgreSQL will not run as
/// root), else `None`.
fn unprivileged_user() -> Option<(u32, u32)> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return None;
    }
    let name = c"nobody";
    // SAFETY: a NUL-terminated name; the result is read before any other getpw* call.
    let pw = unsafe { libc::getpwnam(name.as_ptr()) };
    assert!(
        !pw.is_null(),
        "running as root and there is no `nobody` user"
    );
    // SAFETY: non-null, points to libc's static passwd record.
    let (uid, gid) = unsafe { ((*pw).pw_uid, (*pw).pw_gid) };
    Some((uid, gid))
}
