import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { card, goOffline, goOnline, launchBrowser, openDevice, startHost, waitFor, waitForState } from './harness.mjs';

let host, browser, dev;

const WIDTHS = [360, 390, 768, 1280];
const VIEWS = ['dashboard', 'library', 'data'];

// Twelve courses, so twelve edits make a two-digit pending count; one has a long
// unbroken title and category, as imported lists do.
const seed = Array.from({ length: 12 }, (_, i) => ({
  id: `wide-${i + 1}`,
  title: i === 0 ? 'Supercalifragilisticexpialidocious_and_another_forty_characters_without_a_break' : `Course ${String(i + 1).padStart(2, '0')}`,
  category: i === 0 ? 'Enterprise_architecture_patterns_for_distributed_systems' : 'Layout',
  date: '2025-01-01',
  completionRatio: 10,
  status: 'In Progress',
  pinnedToDashboard: i < 3,
  deadline: i === 1 ? '2031-01-01' : undefined,
}));

/** Null when the page fits its viewport, else how wide it is and the elements sticking out. */
function overflow(page) {
  return page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    const scrollWidth = document.documentElement.scrollWidth;
    if (scrollWidth <= width) return null;
    const out = [...document.body.querySelectorAll('*')]
      .filter((e) => e.getBoundingClientRect().right > width + 0.5)
      .reverse()
      .slice(0, 4)
      .map((e) => `${e.localName}${e.className && typeof e.className === 'string' ? '.' + e.className.trim().split(/\s+/).join('.') : ''} (right ${Math.round(e.getBoundingClientRect().right)})`);
    return `${scrollWidth} px wide in a ${width} px viewport; sticking out: ${out.join(', ')}`;
  });
}

/** Every view at every width, in the sync state the page is in now. */
async function assertFits(page, state) {
  const problems = [];
  for (const width of WIDTHS) {
    await page.setViewportSize({ width, height: 800 });
    for (const view of VIEWS) {
      await page.evaluate((v) => (location.hash = `#/${v}`), view);
      await page.locator(`main .${view === 'data' ? 'data-view' : view === 'library' ? 'library' : 'stat-cards'}`).first().waitFor();
      const o = await overflow(page);
      if (o) problems.push(`${view} at ${width} px (${state}): ${o}`);
    }
  }
  assert.deepEqual(problems, [], `views wider than the screen while ${state}`);
}

async function bump(page, title) {
  await page.evaluate(() => (location.hash = '#/library'));
  await card(page, title).getByRole('button', { name: `Increase progress of ${title} by 5` }).click();
}

async function pending(page) {
  return Number(await page.getByTestId('sync-indicator').getAttribute('data-pending'));
}

describe('layout fits phone widths in every sync state', () => {
  before(async () => {
    host = await startHost();
    for (const c of seed) assert.equal((await host.api('PUT', `/api/courses/${c.id}`, c)).status, 201);
    browser = await launchBrowser();
    dev = await openDevice(browser, host, { viewport: { width: 390, height: 800 } });
  });
  after(async () => {
    assert.deepEqual(dev?.problems ?? [], []);
    await browser?.close();
    await host?.stop();
  });

  it('synced', async () => {
    await waitForState(dev.page, 'synced');
    await assertFits(dev.page, 'synced');
  });

  it('saving', async () => {
    const { page, context } = dev;
    // Writes wait here, so the page stays in "saving" while it is measured.
    const held = [];
    let hold = true;
    await context.route('**/api/courses/*', (route) => (hold && route.request().method() === 'PUT' ? held.push(route) : route.fallback()));
    try {
      await bump(page, 'Course 02');
      await waitForState(page, 'saving');
      await waitFor('the write reached the network', async () => held.length > 0);
      await assertFits(page, 'saving');
    } finally {
      hold = false;
      for (const r of held) await r.continue();
      await context.unroute('**/api/courses/*');
    }
    await waitForState(page, 'synced');
  });

  it('offline with 1 and with 12 pending edits', async () => {
    const { page, context } = dev;
    await goOffline(context);
    try {
      await bump(page, 'Course 03');
      await waitForState(page, 'offline');
      await waitFor('1 pending', async () => (await pending(page)) === 1);
      await assertFits(page, 'offline, 1 pending');

      for (const c of seed) if (c.id !== 'wide-3') await bump(page, c.title);
      await waitFor('12 pending', async () => (await pending(page)) === 12);
      await assertFits(page, 'offline, 12 pending');
    } finally {
      await goOnline(context);
    }
    await waitForState(page, 'synced', 40_000);
  });

  it('error (a write the server refused)', async () => {
    const { page, context } = dev;
    await context.route('**/api/courses/*', (route) =>
      route.request().method() === 'PUT'
        ? route.fulfill({ status: 400, contentType: 'application/json', body: JSON.stringify({ error: { code: 'invalid', message: 'refused for this test' } }) })
        : route.fallback(),
    );
    try {
      await bump(page, 'Course 04');
      await waitForState(page, 'error');
      await assertFits(page, 'error');
    } finally {
      await context.unroute('**/api/courses/*');
    }
    await page.getByTestId('sync-indicator').getByRole('button', { name: 'Retry' }).click();
    await waitForState(page, 'synced');
  });

  it('signed out (the server asks for a token)', async () => {
    const { page, context } = dev;
    // The last state: the page is not brought back from it.
    await context.route('**/api/**', (route) =>
      route.fulfill({ status: 401, contentType: 'application/json', body: JSON.stringify({ error: { code: 'unauthorized', message: 'token required' } }) }),
    );
    await bump(page, 'Course 05');
    await waitForState(page, 'auth');
    const dialog = page.getByRole('dialog', { name: 'Access token needed' });
    await dialog.waitFor();
    await assertFits(page, 'asking for the token');
    await dialog.getByRole('button', { name: 'Later' }).click();
    await dialog.waitFor({ state: 'hidden' });
    await assertFits(page, 'signed out');
  });
});
