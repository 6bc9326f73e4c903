// The installable app: the manifest and its icons as the real host serves them,
// Chromium's own installability verdict, the title bar colours, and a new version
// replacing the old one (service worker cache included) after a hot swap.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { REPO, buildStaticVariant, launchBrowser, launchPersistent, openDevice, startHost, waitFor, waitForState } from './harness.mjs';

const NEXT_VERSION = '0.1.0-e2e-next';

let host;
let browser;

/** Width and height from a PNG's IHDR chunk, read by hand: not by the library that wrote it. */
function pngSize(buf) {
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  assert.ok(buf.subarray(0, 8).equals(signature), 'PNG signature');
  assert.equal(buf.toString('latin1', 12, 16), 'IHDR');
  return { width: buf.readUInt32BE(16), height: buf.readUInt32BE(20) };
}

/** The alpha of the top-left pixel and of the centre. */
async function alphaAt(buf) {
  const { data, info } = await sharp(buf).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  const alpha = (x, y) => data[(y * info.width + x) * info.channels + 3];
  return { corner: alpha(0, 0), centre: alpha(info.width >> 1, info.height >> 1) };
}

async function get(path, headers = {}) {
  const r = await fetch(host.url + path, { headers });
  return { status: r.status, headers: r.headers, body: Buffer.from(await r.arrayBuffer()) };
}

async function linkedFromIndex(rel) {
  const html = (await get('/')).body.toString('utf8');
  const m = new RegExp(`<link rel="${rel}" href="([^"]+)"`).exec(html);
  assert.ok(m, `index.html links a ${rel}`);
  return m[1];
}

/** Waits until a service worker controls the page. */
async function controlled(page) {
  await page.evaluate(() => navigator.serviceWorker.ready);
  await waitFor('a controlling service worker', () => page.evaluate(() => !!navigator.serviceWorker.controller));
}

/** The app has started: its shell is on screen. */
async function appShown(page) {
  await page.getByRole('button', { name: /add course/i }).first().waitFor();
}

function cacheNames(page) {
  return page.evaluate(async () => (await caches.keys()).sort());
}

function buildOf(page) {
  return page.evaluate(() => document.querySelector('meta[name="skilltrack-build"]')?.content ?? null);
}

/** A real second build of the app (another version label), embedded in the static component. */
function buildNextVersion() {
  return buildStaticVariant((dist) => {
    execFileSync('npx', ['vite', 'build', '--outDir', dist, '--emptyOutDir', '--logLevel', 'warn'], {
      cwd: join(REPO, 'web'),
      env: { ...process.env, SKILLTRACK_VERSION_LABEL: NEXT_VERSION },
      stdio: 'inherit',
    });
  });
}

describe('installable app', () => {
  before(async () => {
    host = await startHost();
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await host?.stop();
  });

  it('serves_a_manifest_whose_every_icon_exists_at_the_size_it_claims', async () => {
    const href = await linkedFromIndex('manifest');
    const r = await get(href);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'application/manifest+json');
    // A fixed URL: revalidated with its ETag on every use.
    assert.equal(r.headers.get('cache-control'), 'no-cache');
    const etag = r.headers.get('etag');
    assert.ok(etag);
    assert.equal((await get(href, { 'If-None-Match': etag })).status, 304);

    const m = JSON.parse(r.body.toString('utf8'));
    assert.equal(m.name, 'SkillTrack');
    assert.equal(m.short_name, 'SkillTrack');
    assert.equal(m.start_url, '/');
    assert.equal(m.display, 'standalone');
    assert.match(m.theme_color, /^#[0-9a-f]{6}$/);
    assert.match(m.background_color, /^#[0-9a-f]{6}$/);

    const have = m.icons.map((i) => `${i.sizes} ${i.purpose}`).sort();
    assert.deepEqual(have, ['192x192 any', '192x192 maskable', '512x512 any', '512x512 maskable']);
    for (const icon of m.icons) {
      const res = await get(icon.src);
      assert.equal(res.status, 200, icon.src);
      assert.equal(res.headers.get('content-type'), 'image/png', icon.src);
      assert.equal(icon.type, 'image/png');
      assert.match(res.headers.get('cache-control'), /immutable/, icon.src);
      const [w, h] = icon.sizes.split('x').map(Number);
      assert.deepEqual(pngSize(res.body), { width: w, height: h }, icon.src);
      const alpha = await alphaAt(res.body);
      assert.equal(alpha.centre, 255, `${icon.src}: drawn in the middle`);
      // Maskable icons are full-bleed (the platform crops them); the others keep
      // the SVG's rounded, transparent corners.
      assert.equal(alpha.corner, icon.purpose === 'maskable' ? 255 : 0, `${icon.src}: corner alpha`);
    }

    const touch = await get(await linkedFromIndex('apple-touch-icon'));
    assert.equal(touch.status, 200);
    assert.deepEqual(pngSize(touch.body), { width: 180, height: 180 });
    assert.equal((await alphaAt(touch.body)).corner, 255, 'iOS shows transparency as black');
  });

  it('chromium_finds_no_installability_errors', async () => {
    // A profile on disk: Chromium never offers to install from an incognito one.
    const profile = mkdtempSync(join(tmpdir(), 'skilltrack-profile-'));
    const context = await launchPersistent(profile);
    try {
      const page = context.pages()[0] ?? (await context.newPage());
      const problems = [];
      page.on('pageerror', (e) => problems.push(e.message));
      await page.goto(host.url + '/');
      await appShown(page);
      await controlled(page);
      const cdp = await context.newCDPSession(page);
      const manifest = await cdp.send('Page.getAppManifest');
      assert.deepEqual(manifest.errors, [], 'manifest parse errors');
      assert.ok(manifest.url.endsWith('/manifest.webmanifest'));
      const { installabilityErrors } = await cdp.send('Page.getInstallabilityErrors');
      assert.deepEqual(installabilityErrors, []);
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    }
  });

  it('the_title_bar_takes_the_background_of_the_theme_shown', async () => {
    for (const colorScheme of ['dark', 'light']) {
      const { page, context } = await openDevice(browser, host, { colorScheme });
      const colours = () =>
        page.evaluate(() => {
          // The page background as #rrggbb, and what both theme-color metas say.
          const probe = document.createElement('div');
          probe.style.color = getComputedStyle(document.documentElement).getPropertyValue('--bg');
          document.body.append(probe);
          const [r, g, b] = getComputedStyle(probe).color.match(/\d+/g).map(Number);
          probe.remove();
          const hex = '#' + [r, g, b].map((n) => n.toString(16).padStart(2, '0')).join('');
          return { hex, metas: [...document.querySelectorAll('meta[name="theme-color"]')].map((m) => m.content) };
        });
      let c = await colours();
      assert.deepEqual(c.metas, [c.hex, c.hex], colorScheme);
      const served = JSON.parse((await get('/manifest.webmanifest')).body.toString('utf8'));
      if (colorScheme === 'dark') assert.equal(served.theme_color, c.hex, 'the manifest carries the dark theme');
      // Picking the other theme recolours the bar too.
      await page.getByRole('button', { name: /^Switch to (light|dark) theme$/ }).click();
      await waitFor('metas follow the picked theme', async () => {
        const now = await colours();
        return now.hex !== c.hex && now.metas.every((m) => m === now.hex);
      });
      await context.close();
    }
  });

  it('after_a_swap_a_reload_runs_the_new_version_says_so_once_and_the_old_cache_is_gone', async () => {
    const next = buildNextVersion();
    // A host of its own: this test ends by taking its server away.
    const h = await startHost({ admin: true });
    try {
      const { page, context, problems } = await openDevice(browser, h);
      await controlled(page);
      const oldBuild = await buildOf(page);
      assert.ok(oldBuild);
      await waitFor('the shell cached', async () => {
        const names = await cacheNames(page);
        return names.length === 1 && names[0] === `skilltrack-shell-${oldBuild}` && (await page.evaluate(() => caches.match('/').then(Boolean)));
      });
      assert.equal(await page.getByTestId('update-notice').count(), 0, 'no notice on a first start');

      const swap = await fetch(`${h.adminUrl}/-/components/web`, { method: 'PUT', body: next });
      assert.equal(swap.status, 200, await swap.text());

      // Like launching the installed app again: one reload, no cache cleared by hand.
      await page.reload();
      const newBuild = await buildOf(page);
      assert.ok(newBuild && newBuild !== oldBuild, `a new build is served (${oldBuild} -> ${newBuild})`);
      await page.getByTestId('update-notice').getByText('Updated to the new version').waitFor();
      // The new worker installs, takes over and deletes the old version's cache.
      await waitFor('only the new cache', async () => {
        const names = await cacheNames(page);
        return names.length === 1 && names[0] === `skilltrack-shell-${newBuild}`;
      });
      await waitFor('the new worker in control', () =>
        page.evaluate(async (b) => {
          const sw = navigator.serviceWorker.controller;
          if (!sw) return false;
          const text = await (await fetch(sw.scriptURL, { cache: 'no-store' })).text();
          return text.includes(`'${b}'`);
        }, newBuild),
      );

      // Told once only.
      await page.reload();
      await appShown(page);
      assert.equal(await page.getByTestId('update-notice').count(), 0, 'the notice is shown once');
      await page.goto(h.url + '/#/data');
      await page.getByTestId('app-version').getByText(NEXT_VERSION, { exact: false }).waitFor();

      // The kept shell is the new one: with the server gone the new version starts.
      await h.stop();
      await page.goto(h.url + '/');
      assert.equal(await buildOf(page), newBuild);
      await appShown(page);
      await waitForState(page, 'offline');
      assert.deepEqual(problems, []);
      await context.close();
    } finally {
      await h.stop();
    }
  });
});
