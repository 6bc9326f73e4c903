import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { launchBrowser, openDevice, startHost, waitFor } from './harness.mjs';

let host, browser;
const devices = [];

async function device(colorScheme, init) {
  const d = await openDevice(browser, host, { colorScheme, init });
  devices.push(d);
  await d.page.getByRole('button', { name: /^Switch to (light|dark) theme$/ }).waitFor();
  return d;
}

/** The theme a person sees: judged from the page's painted background, not from an attribute. */
function shownTheme(page) {
  return page.evaluate(() => {
    const [r, g, b] = getComputedStyle(document.body).backgroundColor.match(/\d+(\.\d+)?/g).map(Number);
    return 0.2126 * r + 0.7152 * g + 0.0722 * b > 128 ? 'light' : 'dark';
  });
}

/** Lets a system change reach the page and React render it, so "did not switch" means something. */
async function settle(page) {
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
}

async function waitForTheme(page, theme) {
  await waitFor(`${theme} theme shown`, async () => (await shownTheme(page)) === theme);
  // The toggle offers the other one.
  await page.getByRole('button', { name: `Switch to ${theme === 'dark' ? 'light' : 'dark'} theme` }).waitFor();
}

describe('theme', () => {
  before(async () => {
    host = await startHost();
    browser = await launchBrowser();
  });
  after(async () => {
    for (const d of devices) assert.deepEqual(d.problems, []);
    await browser?.close();
    await host?.stop();
  });

  it('starts light on a light system and dark on a dark one', async () => {
    const light = await device('light');
    await waitForTheme(light.page, 'light');
    const dark = await device('dark');
    await waitForTheme(dark.page, 'dark');
  });

  it('ignores the "dark" the previous version stored on every start', async () => {
    const init = { fn: () => localStorage.getItem('skilltrack_theme') ?? localStorage.setItem('skilltrack_theme', 'dark') };
    const { page } = await device('light', init);
    await waitForTheme(page, 'light');
  });

  it('follows the system while open, until the person picks a theme', async () => {
    const { page } = await device('dark');
    await waitForTheme(page, 'dark');
    await page.emulateMedia({ colorScheme: 'light' });
    await waitForTheme(page, 'light');
    await page.emulateMedia({ colorScheme: 'dark' });
    await waitForTheme(page, 'dark');
    // Nothing was picked, so a reload on a now light system starts light.
    await page.emulateMedia({ colorScheme: 'light' });
    await page.reload();
    await waitForTheme(page, 'light');
  });

  it('keeps the person’s choice across reloads, whatever the system says', async () => {
    const { page } = await device('dark');
    await waitForTheme(page, 'dark');
    await page.getByRole('button', { name: 'Switch to light theme' }).click();
    await waitForTheme(page, 'light');
    await page.reload();
    await waitForTheme(page, 'light');
    await page.emulateMedia({ colorScheme: 'light' });
    await page.emulateMedia({ colorScheme: 'dark' });
    await settle(page);
    assert.equal(await shownTheme(page), 'light');

    await page.getByRole('button', { name: 'Switch to dark theme' }).click();
    await waitForTheme(page, 'dark');
    await page.emulateMedia({ colorScheme: 'light' });
    await page.reload();
    await waitForTheme(page, 'dark');
  });
});
