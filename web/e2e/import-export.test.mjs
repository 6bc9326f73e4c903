import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { DESKTOP, FIXTURE_CSV, PHONE, card, launchBrowser, openDevice, screenshot, startHost, waitFor, waitForState } from './harness.mjs';

let host, browser, dev;

describe('import and export', () => {
  before(async () => {
    host = await startHost();
    browser = await launchBrowser();
    dev = await openDevice(browser, host);
  });
  after(async () => {
    assert.deepEqual(dev?.problems ?? [], []);
    await browser?.close();
    await host?.stop();
  });

  it('offers a way to start when the library is empty', async () => {
    const { page } = dev;
    await page.getByRole('heading', { name: 'Your library is empty' }).waitFor();
    await page.getByRole('button', { name: 'Add your first course' }).waitFor();
    await page.getByRole('button', { name: 'Load sample courses' }).waitFor();
  });

  it('refuses a CSV with a bad row as a whole, showing the server’s row errors, and imports the valid rows on request', async () => {
    const { page } = dev;
    await page.getByRole('link', { name: 'Import & export' }).first().click();
    const csv = 'Id,Date,Category,Title,Notes,Completion ratio\nok-1,1/2/2025,Dev,"Good, row",,10\nbad-1,13/45/2025,Dev,Bad date,,0\n';
    await page.getByLabel('Backup file to import').setInputFiles({ name: 'mixed.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    await page.getByTestId('preview-summary').getByText('2 courses found, 1 valid, 1 with problems', { exact: false }).waitFor();
    await page.getByRole('button', { name: 'Import 2 courses' }).click();
    const result = page.getByTestId('import-result');
    await result.getByText('Nothing was imported', { exact: false }).waitFor();
    assert.match(await result.innerText(), /Line 3/);
    assert.equal((await host.courses()).length, 0);

    await page.getByLabel('Import the valid rows even if some fail').check();
    await page.getByRole('button', { name: 'Import 2 courses' }).click();
    await result.getByText('Import done: 1 created', { exact: false }).waitFor();
    assert.deepEqual((await host.courses()).map((c) => c.id), ['ok-1']);
    await page.getByLabel('Import the valid rows even if some fail').uncheck();
  });

  it('imports the real 272-course CSV by drag and drop, after a preview', async () => {
    const { page } = dev;
    const text = readFileSync(FIXTURE_CSV, 'utf8');
    await page.evaluate((content) => {
      const dt = new DataTransfer();
      dt.items.add(new File([content], 'udemy_course_list.csv', { type: 'text/csv' }));
      const zone = document.querySelector('.dropzone');
      zone.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
      zone.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    }, text);
    await page.getByTestId('preview-summary').getByText('272 courses found, 272 valid', { exact: false }).waitFor();
    await page.getByRole('cell', { name: 'Method of Loci: Master This Ancient Memory Skills in 7 Days' }).waitFor();
    await page.getByRole('button', { name: 'Import 272 courses' }).click();
    await page.getByTestId('import-result').getByText('Import done: 272 created', { exact: false }).waitFor();
    assert.equal((await host.courses()).length, 273);

    await page.getByRole('link', { name: 'Library' }).first().click();
    await card(page, 'Method of Loci: Master This Ancient Memory Skills in 7 Days').waitFor();
    const side = page.getByRole('navigation', { name: 'Categories' });
    assert.match(await side.getByRole('button', { name: /All courses/ }).innerText(), /273/);
    await waitForState(page, 'synced');
  });

  it('exports a JSON backup and a CSV of the courses', async () => {
    const { page } = dev;
    await page.getByRole('link', { name: 'Import & export' }).first().click();
    let wait = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Export JSON backup' }).click();
    const json = JSON.parse(readFileSync(await (await wait).path(), 'utf8'));
    assert.equal(json.courses.length, 273);
    assert.ok(json.courses.some((c) => c.id === '6716873'));

    wait = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Export CSV' }).click();
    const download = await wait;
    assert.match(download.suggestedFilename(), /\.csv$/);
    const csv = readFileSync(await download.path(), 'utf8');
    assert.match(csv.split(/\r?\n/)[0], /^Id,Date,Category,Title,Notes,Completion ratio/);
    assert.ok(csv.includes('Method of Loci: Master This Ancient Memory Skills in 7 Days'));
  });

  it('takes screenshots of the dashboard and library at phone and desktop sizes', async () => {
    // Some realistic state: a few courses under way, pinned, completed this month.
    const all = await host.courses();
    const pick = all.filter((c) => c.category === 'Programming' || c.category === 'Development').slice(0, 6);
    const some = pick.length >= 6 ? pick : all.slice(0, 6);
    const today = new Date();
    const iso = (d) => d.toISOString().slice(0, 10);
    const plans = [
      { completionRatio: 45, status: 'In Progress', pinnedToDashboard: true, totalLessons: 120, completedLessons: 54, deadline: iso(new Date(today.getTime() + 9 * 864e5)) },
      { completionRatio: 80, status: 'In Progress', pinnedToDashboard: true, isFavorite: true, deadline: iso(new Date(today.getTime() - 2 * 864e5)) },
      { completionRatio: 100, status: 'Completed' },
      { completionRatio: 0, status: 'Up Next' },
      { completionRatio: 0, status: 'Up Next' },
      { completionRatio: 20, status: 'In Progress', notes: 'Repo: https://github.com/example/course' },
    ];
    for (let i = 0; i < some.length; i++) {
      const c = some[i];
      const r = await host.api('PATCH', `/api/courses/${c.id}`, plans[i]);
      assert.equal(r.status, 200, r.text);
    }
    for (const [name, viewport] of [['desktop', DESKTOP], ['phone', PHONE]]) {
      // A dark system, so the desktop shots show both themes: dark first, then light by choice.
      const d = await openDevice(browser, host, { viewport, colorScheme: 'dark' });
      await d.page.getByRole('heading', { name: 'Dashboard' }).waitFor();
      await waitForState(d.page, 'synced');
      await screenshot(d.page, `dashboard-${name}`);
      await screenshot(d.page, `dashboard-${name}-full`, { fullPage: true });
      const noSideScroll = () => d.page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
      assert.ok(await noSideScroll(), `dashboard fits the ${name} width`);
      await d.page.getByRole('link', { name: 'Library' }).first().click();
      await d.page.getByLabel('Sort by').selectOption('progress');
      await card(d.page, some[1].title).waitFor();
      await screenshot(d.page, `library-${name}`);
      assert.ok(await noSideScroll(), `library fits the ${name} width`);
      if (name === 'desktop') {
        await d.page.getByRole('button', { name: 'Switch to light theme' }).click();
        await screenshot(d.page, 'library-desktop-light');
        await d.page.getByRole('link', { name: 'Dashboard' }).first().click();
        await screenshot(d.page, 'dashboard-desktop-light');
        await d.page.reload();
        await d.page.getByRole('button', { name: 'Switch to dark theme' }).waitFor();
      }
      assert.deepEqual(d.problems, []);
      await d.context.close();
    }
  });
});
