//! The native floor for `make bench`: the API component's own handlers and SQL
//! (`skilltrack_api::handle` on its rusqlite backend), served by hyper with no
//! WebAssembly in between. Same database layout and pragmas as tracker-host (WAL,
//! synchronous=FULL, busy timeout), so the ratio host/native is the cost of the
//! wasm sandbox and the host's plumbing alone.

mod pool;
mod serve;

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Parser, ValueEnum};

/// The SkillTrack API natively behind hyper: the floor the wasm host is measured against.
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    /// Address to listen on.
    #[arg(long, env = "NATIVE_LISTEN", default_value = "127.0.0.1:3200")]
    listen: SocketAddr,
    /// Data directory, laid out as tracker-host lays it out (`sqlite/default.db`, `key-value.db`).
    #[arg(long, env = "NATIVE_DATA_DIR", default_value = "./native-data")]
    data_dir: PathBuf,
    /// SQLite `synchronous` setting; `full` is what the host uses, `normal` shows what FULL costs.
    #[arg(long, value_enum, default_value_t = Synchronous::Full)]
    synchronous: Synchronous,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Synchronous {
    Full,
    Normal,
}

impl Synchronous {
    pub fn pragma(self) -> &'static str {
        match self {
            Synchronous::Full => "FULL",
            Synchronous::Normal => "NORMAL",
        }
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let pool = pool::BackendPool::open(&args.data_dir, args.synchronous)
        .with_context(|| format!("cannot open the database in {}", args.data_dir.display()))?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    eprintln!(
        "native-baseline listening on http://{} (synchronous={})",
        args.listen,
        args.synchronous.pragma()
    );
    serve::serve(listener, pool).await
}
