import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { card, goOffline, goOnline, launchBrowser, openDevice, startHost, unnamedControls, waitForState } from './harness.mjs';

let host, browser;
const devices = [];

const seed = [
  { id: 'a11y-1', title: 'Accessible forms', category: 'Design', date: '2025-02-01', completionRatio: 40, status: 'In Progress', pinnedToDashboard: true, deadline: '2031-01-01' },
  { id: 'a11y-2', title: 'Screen readers 101', category: 'Design', date: '2025-03-01', completionRatio: 100, status: 'Completed', isFavorite: true },
  { id: 'a11y-3', title: 'Colour contrast', category: 'Web', date: '2025-04-01', status: 'Up Next', notes: 'See https://example.com/contrast' },
];

async function assertAllNamed(page, where) {
  assert.deepEqual(await unnamedControls(page), [], `controls without an accessible name: ${where}`);
}

describe('accessible names', () => {
  before(async () => {
    host = await startHost();
    for (const c of seed) assert.equal((await host.api('PUT', `/api/courses/${c.id}`, c)).status, 201);
    browser = await launchBrowser();
  });
  after(async () => {
    for (const d of devices) assert.deepEqual(d.problems, []);
    await browser?.close();
    await host?.stop();
  });

  for (const [label, viewport] of [['phone, 390 px', { width: 390, height: 844 }], ['desktop, 1280 px', { width: 1280, height: 900 }]]) {
    it(`every visible button, link and field has an accessible name (${label})`, async () => {
      const d = await openDevice(browser, host, { viewport });
      devices.push(d);
      const { page } = d;

      await page.getByRole('region', { name: 'Active learning' }).getByText('Accessible forms').waitFor();
      await assertAllNamed(page, `dashboard at ${label}`);

      await page.getByRole('link', { name: 'Library' }).first().click();
      await card(page, 'Colour contrast').waitFor();
      await assertAllNamed(page, `library at ${label}`);

      await page.getByRole('link', { name: /Import & export|Data/ }).first().click();
      await page.getByRole('button', { name: 'Export CSV' }).waitFor();
      await assertAllNamed(page, `import & export at ${label}`);

      // The top bar's add button: its own dialog, then the edit and delete dialogs of a card.
      await page.getByRole('button', { name: 'Add course' }).first().click();
      const add = page.getByRole('dialog', { name: 'Add course' });
      await add.getByLabel('Title').waitFor();
      await assertAllNamed(page, `add-course dialog at ${label}`);
      await add.getByRole('button', { name: 'Close' }).click();
      await add.waitFor({ state: 'hidden' });

      await page.getByRole('link', { name: 'Library' }).first().click();
      await card(page, 'Accessible forms').getByRole('button', { name: 'Edit Accessible forms' }).click();
      const edit = page.getByRole('dialog', { name: 'Edit course' });
      await edit.getByLabel('Title').waitFor();
      await assertAllNamed(page, `edit dialog at ${label}`);
      await edit.getByRole('button', { name: 'Cancel' }).click();
      await edit.waitFor({ state: 'hidden' });

      await card(page, 'Accessible forms').getByRole('button', { name: 'Delete Accessible forms' }).click();
      const confirm = page.getByRole('dialog', { name: 'Delete course?' });
      await confirm.getByRole('button', { name: 'Cancel' }).waitFor();
      await assertAllNamed(page, `delete confirmation at ${label}`);
      await confirm.getByRole('button', { name: 'Cancel' }).click();
      await confirm.waitFor({ state: 'hidden' });

      // Offline with an edit pending, the sync indicator adds its Retry button.
      await goOffline(d.context);
      try {
        await card(page, 'Colour contrast').getByRole('button', { name: 'Increase progress of Colour contrast by 5' }).click();
        await waitForState(page, 'offline');
        await assertAllNamed(page, `offline library at ${label}`);
      } finally {
        await goOnline(d.context);
      }
      await waitForState(page, 'synced', 40_000);
    });
  }
});
