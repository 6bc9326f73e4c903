// The seed app's storage design, kept as a benchmark baseline: Express with
// better-sqlite3, the whole course list stored as one JSON blob. GET returns the
// blob, POST replaces it; settings are one row each. No per-course writes exist,
// so a client updates one course by reading and re-posting the whole list.
import express from 'express';
import Database from 'better-sqlite3';

const port = Number(process.env.PORT ?? 3100);
const host = process.env.HOST ?? '127.0.0.1';
const dbPath = process.env.SEED_DB ?? './seed.db';
const staticDir = process.env.SEED_STATIC_DIR;
// The same durability as tracker-host unless told otherwise, so a comparison of
// write rates measures the design and not the fsync policy.
const synchronous = process.env.SEED_SYNCHRONOUS ?? 'FULL';
const SETTING_KEY = /^[a-z0-9_.-]{1,64}$/;

const db = new Database(dbPath);
db.pragma('journal_mode = WAL');
db.pragma(`synchronous = ${synchronous === 'NORMAL' ? 'NORMAL' : 'FULL'}`);
db.pragma('busy_timeout = 5000');
db.exec(`CREATE TABLE IF NOT EXISTS app_data (key TEXT PRIMARY KEY, value TEXT NOT NULL);
         CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);`);
const readBlob = db.prepare('SELECT value FROM app_data WHERE key = ?').pluck();
const writeBlob = db.prepare(
  'INSERT INTO app_data (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
);
const readSetting = db.prepare('SELECT value FROM settings WHERE key = ?').pluck();
const writeSetting = db.prepare(
  'INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
);

const app = express();
app.disable('x-powered-by');
app.use(express.json({ limit: '10mb' }));

app.get('/health', (_req, res) => res.json({ status: 'ok' }));

app.get('/api/courses', (_req, res) => {
  // Sent as stored: no parse and re-serialise, the cheapest the design allows.
  res.type('json').send(readBlob.get('courses') ?? '[]');
});

app.post('/api/courses', (req, res) => {
  if (!Array.isArray(req.body)) {
    return res.status(400).json({ error: { code: 'invalid_body', message: 'expected an array of courses' } });
  }
  writeBlob.run('courses', JSON.stringify(req.body));
  res.json({ ok: true, count: req.body.length });
});

app.get('/api/settings/:key', (req, res) => {
  const value = SETTING_KEY.test(req.params.key) ? readSetting.get(req.params.key) : undefined;
  if (value === undefined) {
    return res.status(404).json({ error: { code: 'not_found', message: 'no such setting' } });
  }
  res.json({ value });
});

app.post('/api/settings/:key', (req, res) => {
  if (!SETTING_KEY.test(req.params.key) || typeof req.body?.value !== 'string') {
    return res.status(400).json({ error: { code: 'invalid_field', message: 'expected {"value": "..."}', field: 'value' } });
  }
  writeSetting.run(req.params.key, req.body.value);
  res.json({ value: req.body.value });
});

// Unknown API paths are JSON 404s, not the front end.
app.all('/api/*', (_req, res) => res.status(404).json({ error: { code: 'not_found', message: 'no such endpoint' } }));

if (staticDir) {
  // The seed served its built front end with express.static (no precompression).
  app.use(express.static(staticDir));
  app.get('*', (_req, res) => res.sendFile('index.html', { root: staticDir }));
}

const server = app.listen(port, host, () => console.log(`seed baseline listening on http://${host}:${port}`));
const stop = () => server.close(() => { db.close(); process.exit(0); });
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
