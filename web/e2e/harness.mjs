// Shared e2e setup: the real tracker-host serving the real components from the repo's
// spin.toml on a free loopback port with a fresh data dir, and Debian's Chromium.

import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

export const REPO = resolve(new URL('../..', import.meta.url).pathname);
// The project keeps one copy of the 272-course Udemy export, shared with the Rust tests.
export const FIXTURE_CSV = join(REPO, 'tests', 'fixtures', 'udemy_course_list.csv');
export const SCREENSHOTS = join(REPO, 'target', 'screenshots');
const HOST_BIN = process.env.TRACKER_HOST_BIN ?? join(REPO, 'target', 'release', 'tracker-host');
const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';

function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

/**
 * The static component built around another web app: `fillDist(dir)` puts the app's
 * files in an empty temp dir, which the component then embeds. Returns the .wasm bytes,
 * for a swap on the admin API. Built in its own target dir (shared with the Rust swap
 * tests), so the tested build in target/ stays as it is.
 */
export function buildStaticVariant(fillDist) {
  const dist = mkdtempSync(join(tmpdir(), 'skilltrack-variant-'));
  try {
    fillDist(dist);
    const targetDir = join(REPO, 'target', 'swap-variant');
    execFileSync('cargo', ['build', '--target', 'wasm32-wasip2', '--profile', 'wasm', '-p', 'skilltrack-static'], {
      cwd: REPO,
      env: { ...process.env, CARGO_TARGET_DIR: targetDir, SKILLTRACK_WEB_DIST: dist },
      stdio: 'inherit',
    });
    return readFileSync(join(targetDir, 'wasm32-wasip2', 'wasm', 'skilltrack_static.wasm'));
  } finally {
    rmSync(dist, { recursive: true, force: true });
  }
}

export async function waitFor(what, fn, timeoutMs = 20_000, everyMs = 100) {
  const end = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Starts the host; with `admin`, its admin API listens on a free loopback port too. */
export async function startHost({ env = {}, admin = false } = {}) {
  const port = await freePort();
  const adminPort = admin ? await freePort() : null;
  const dataDir = mkdtempSync(join(tmpdir(), 'skilltrack-e2e-'));
  const proc = spawn(
    HOST_BIN,
    ['up', '--manifest', join(REPO, 'spin.toml'), '--listen', `127.0.0.1:${port}`, '--data-dir', dataDir, '--log-format', 'text',
      '--admin-listen', adminPort ? `127.0.0.1:${adminPort}` : 'off'],
    { cwd: REPO, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let log = '';
  proc.stdout.on('data', (d) => (log += d));
  proc.stderr.on('data', (d) => (log += d));
  const exited = new Promise((r) => proc.once('exit', (code, signal) => r({ code, signal })));
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor('host /health', async () => {
      if (proc.exitCode !== null) throw new Error(`host exited ${proc.exitCode}: ${log}`);
      const r = await fetch(`${url}/health`);
      return r.ok;
    }, 120_000, 200);
  } catch (e) {
    proc.kill('SIGKILL');
    throw new Error(`${e.message}\n--- host log ---\n${log}`);
  }
  const headers = env.SPIN_VARIABLE_API_TOKEN ? { Authorization: `Bearer ${env.SPIN_VARIABLE_API_TOKEN}` } : {};
  return {
    url,
    adminUrl: adminPort ? `http://127.0.0.1:${adminPort}` : null,
    log: () => log,
    /** A direct API call, as another client would make it. */
    async api(method, path, body, extraHeaders = {}) {
      const r = await fetch(url + path, {
        method,
        headers: { ...headers, ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}), ...extraHeaders },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await r.text();
      let json = null;
      try {
        json = text ? JSON.parse(text) : null;
      } catch {
        /* not JSON */
      }
      return { status: r.status, json, text, headers: r.headers };
    },
    async courses() {
      const r = await this.api('GET', '/api/courses');
      return r.json;
    },
    async stop() {
      if (proc.exitCode === null) proc.kill('SIGTERM');
      const res = await Promise.race([exited, new Promise((r) => setTimeout(() => r(null), 15_000))]);
      if (res === null) proc.kill('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function launchBrowser() {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
}

/**
 * Chromium with a profile on disk (a persistent context): what installing the app
 * needs, as Chromium offers no install from an off-the-record profile.
 */
export async function launchPersistent(userDataDir, options = {}) {
  return chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
    viewport: DESKTOP,
    ...options,
  });
}

export const DESKTOP = { width: 1366, height: 900 };
export const PHONE = { width: 390, height: 844 };

/**
 * A fresh "device": its own storage, so its own IndexedDB copy and queue. `colorScheme`
 * is the system's light or dark preference (Playwright's own default is light).
 */
export async function openDevice(browser, host, { viewport = DESKTOP, colorScheme = 'light', init } = {}) {
  const context = await browser.newContext({ viewport, colorScheme, acceptDownloads: true });
  if (init) await context.addInitScript(init.fn, init.arg);
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    // Blocked requests during offline tests log network errors; CSP violations must never appear.
    if (m.type() === 'error' && /Content Security Policy|Refused to/i.test(m.text())) problems.push(`csp: ${m.text()}`);
  });
  await page.goto(host.url + '/');
  await waitForState(page, 'synced');
  return { context, page, problems };
}

export function syncState(page) {
  return page.getByTestId('sync-indicator').getAttribute('data-state');
}

export async function waitForState(page, state, timeoutMs = 20_000) {
  await waitFor(`sync state ${state}`, async () => (await syncState(page)) === state, timeoutMs);
}

export function card(page, title) {
  return page.getByRole('article', { name: title, exact: true });
}

export async function screenshot(page, name, { fullPage = false } = {}) {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage });
}

/** Cuts a device off the server: every API request fails as if the network were down. */
export async function goOffline(context) {
  await context.route('**/api/**', (route) => route.abort('internetdisconnected'));
}

export async function goOnline(context) {
  await context.unroute('**/api/**');
}

// Roles a person operates; each needs a name a screen reader can announce.
const CONTROL_ROLES = new Set([
  'button', 'link', 'checkbox', 'radio', 'switch', 'textbox', 'searchbox', 'combobox',
  'listbox', 'spinbutton', 'slider', 'tab', 'menuitem', 'popupbutton',
]);

/**
 * The controls Chromium's accessibility tree exposes without a name. The tree is what
 * assistive technology reads: it leaves out what is not rendered (display: none) and
 * computes names from aria-label, aria-labelledby, content, title and alt as the browser does.
 */
export async function unnamedControls(page) {
  const cdp = await page.context().newCDPSession(page);
  try {
    await cdp.send('Accessibility.enable');
    const { nodes } = await cdp.send('Accessibility.getFullAXTree');
    const bad = [];
    for (const n of nodes) {
      const role = String(n.role?.value ?? '').toLowerCase();
      if (n.ignored || !CONTROL_ROLES.has(role)) continue;
      if (String(n.name?.value ?? '').trim() !== '') continue;
      let what = `${role} (no DOM node)`;
      if (n.backendDOMNodeId) {
        const { node } = await cdp.send('DOM.describeNode', { backendNodeId: n.backendDOMNodeId });
        const attrs = node.attributes ?? [];
        const cls = attrs[attrs.indexOf('class') + 1];
        what = `${role} <${node.localName}${attrs.includes('class') ? ` class="${cls}"` : ''}>`;
      }
      bad.push(what);
    }
    return bad;
  } finally {
    await cdp.detach();
  }
}
