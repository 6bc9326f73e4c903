// The bench's own PostgreSQL server: `initdb` + `pg_ctl` from Debian's PostgreSQL 15
// binaries on a fresh temp dir, listening on a free loopback port, a database per
// server under test, stopped and removed at the end (also when the run fails or is
// interrupted).
//
// Durability as shipped: fsync and synchronous_commit stay at PostgreSQL's defaults
// (on), so a COMMIT is on disk before the client hears of it, as with the host's
// SQLite (WAL, synchronous=FULL). The temp dir is on the same file system as the
// SQLite servers' data dirs (both under the system's temp/work disk; see docs).
//
// PostgreSQL refuses to run as root: then its tools run as `nobody`, with the temp
// dir handed to it.
import { spawnSync, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, chownSync, chmodSync, copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import os from 'node:os';

export const PG_BIN = process.env.PG_BIN || '/usr/lib/postgresql/15/bin';
const USER = 'tracker';

/** Why PostgreSQL cannot run here, or null when its binaries are there. */
export function postgresMissing() {
  for (const tool of ['initdb', 'pg_ctl', 'createdb', 'psql']) {
    if (!existsSync(join(PG_BIN, tool)) && !(tool === 'psql' && onPath('psql'))) {
      return `PostgreSQL not found (${PG_BIN} has no ${tool}; \`make deps\` installs it)`;
    }
  }
  return null;
}

function onPath(tool) {
  return spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
}

/** nobody's uid and gid when this process is root, else null. */
function unprivileged() {
  if (process.geteuid?.() !== 0) return null;
  const id = (flag) => Number(execFileSync('id', [flag, 'nobody']).toString().trim());
  return { uid: id('-u'), gid: id('-g') };
}

/**
 * Starts a server on `port`. Returns { port, version, settings, createDatabase(name),
 * hostEntry, stop() }; `stop` is also run on exit, SIGINT and SIGTERM.
 */
export function startPostgres({ port, logCopy }) {
  const runAs = unprivileged();
  const dir = mkdtempSync(join(os.tmpdir(), 'skilltrack-bench-pg-'));
  if (runAs) chownSync(dir, runAs.uid, runAs.gid);
  chmodSync(dir, 0o700);
  const data = join(dir, 'data');
  const logPath = join(dir, 'server.log');
  const tool = (name) => (existsSync(join(PG_BIN, name)) ? join(PG_BIN, name) : name);
  const run = (name, args, { check = true } = {}) => {
    const r = spawnSync(tool(name), args, {
      cwd: dir,
      env: { ...process.env, PGSSLMODE: 'disable' },
      ...(runAs ?? {}),
      encoding: 'utf8',
      timeout: 120000,
    });
    if (check && r.status !== 0) {
      throw new Error(`${name} ${args.join(' ')} failed (${r.status ?? r.signal ?? r.error}): ${(r.stderr || r.stdout || '').trim().split('\n').slice(-5).join(' | ')}`);
    }
    return r;
  };

  let stopped = false;
  let started = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    // Fast mode: sessions are ended, a shutdown checkpoint; the data is thrown away.
    if (started) run('pg_ctl', ['-D', data, '-m', 'fast', '-w', '-t', '30', 'stop'], { check: false });
    if (logCopy) { try { copyFileSync(logPath, logCopy); } catch { /* no log yet */ } }
    rmSync(dir, { recursive: true, force: true });
  };
  const onSignal = (signal) => {
    stop();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.on('exit', stop);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const forget = () => {
    process.off('exit', stop);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };

  try {
    run('initdb', ['-D', data, '-U', USER, '--auth=trust', '-E', 'UTF8']);
    // Loopback TCP only; the socket dir is the temp dir. fsync and synchronous_commit
    // are left at their defaults (on).
    const options = `-p ${port} -c listen_addresses=127.0.0.1 -k ${dir}`;
    started = true;
    run('pg_ctl', ['-D', data, '-l', logPath, '-o', options, '-w', '-t', '60', 'start']);
  } catch (e) {
    stop();
    forget();
    throw e;
  }
  const psql = (sql) => run('psql', ['-h', '127.0.0.1', '-p', String(port), '-U', USER, '-d', 'postgres', '-X', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-c', sql]).stdout.trim();
  const settings = {};
  for (const name of ['fsync', 'synchronous_commit', 'full_page_writes', 'wal_sync_method', 'shared_buffers', 'max_connections']) {
    settings[name] = psql(`SHOW ${name}`);
  }
  return {
    port,
    version: psql('SHOW server_version'),
    settings,
    dataDir: dir,
    hostEntry: `postgres://127.0.0.1:${port}`,
    /** A new empty database; answers its URL. */
    createDatabase(name) {
      const db = `bench_${name.replace(/[^a-z0-9]/gi, '_')}`;
      run('createdb', ['-h', '127.0.0.1', '-p', String(port), '-U', USER, db]);
      return `postgres://${USER}@127.0.0.1:${port}/${db}?sslmode=disable`;
    },
    stop() {
      stop();
      forget();
    },
    logTail() {
      try { return readFileSync(logPath, 'utf8').split('\n').slice(-10).join('\n'); } catch { return ''; }
    },
  };
}
