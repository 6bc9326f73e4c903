import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { card, goOffline, goOnline, launchBrowser, openDevice, startHost, syncState, waitFor, waitForState } from './harness.mjs';

let host, browser;
const devices = [];

async function device(opts) {
  const d = await openDevice(browser, host, opts);
  devices.push(d);
  await d.page.getByRole('link', { name: 'Library' }).first().click();
  return d;
}

async function serverCourse(id) {
  const r = await host.api('GET', `/api/courses/${id}`);
  return r.status === 200 ? r.json : null;
}

function progressOf(page, title) {
  return card(page, title).getByTestId('progress-value').innerText();
}

describe('sync between devices', () => {
  before(async () => {
    host = await startHost();
    browser = await launchBrowser();
  });
  after(async () => {
    for (const d of devices) assert.deepEqual(d.problems, []);
    await browser?.close();
    await host?.stop();
  });

  it('shows another device’s edits without a reload', async () => {
    await host.api('PUT', '/api/courses/two-dev', { title: 'Shared course', category: 'Sync', date: '2025-01-01' });
    const a = await device();
    const b = await device();
    await card(a.page, 'Shared course').waitFor();
    await card(b.page, 'Shared course').waitFor();
    const navigations = [];
    b.page.on('framenavigated', (f) => f === b.page.mainFrame() && navigations.push(f.url()));

    await card(a.page, 'Shared course').getByRole('button', { name: 'Increase progress of Shared course by 5' }).click();
    await waitFor('B sees A’s progress', async () => (await progressOf(b.page, 'Shared course')) === '5%');

    await b.page.getByRole('button', { name: 'Add course' }).first().click();
    const dialog = b.page.getByRole('dialog', { name: 'Add course' });
    await dialog.getByLabel('Title').fill('Made on B');
    await dialog.getByRole('button', { name: 'Add course' }).click();
    await card(a.page, 'Made on B').waitFor({ timeout: 20_000 });

    await card(b.page, 'Made on B').getByRole('button', { name: 'Delete Made on B' }).click();
    await b.page.getByRole('dialog', { name: 'Delete course?' }).getByRole('button', { name: 'Delete' }).click();
    await card(a.page, 'Made on B').waitFor({ state: 'detached', timeout: 20_000 });
    assert.deepEqual(navigations.filter((u) => !u.includes('#')), [], 'no reload happened');
  });

  it('keeps edits made offline and sends them all when back online', async () => {
    await host.api('PUT', '/api/courses/off-1', { title: 'Offline one', date: '2025-01-01' });
    await host.api('PUT', '/api/courses/off-2', { title: 'Offline two', date: '2025-01-01' });
    const d = await device();
    await card(d.page, 'Offline two').waitFor();
    await goOffline(d.context);

    await card(d.page, 'Offline one').getByRole('button', { name: 'Increase progress of Offline one by 5' }).click();
    await card(d.page, 'Offline one').getByRole('button', { name: 'Increase progress of Offline one by 5' }).click();
    await card(d.page, 'Offline two').getByRole('button', { name: 'Add to favourites' }).click();
    await d.page.getByRole('button', { name: 'Add course' }).first().click();
    const dialog = d.page.getByRole('dialog', { name: 'Add course' });
    await dialog.getByLabel('Title').fill('Added offline');
    await dialog.getByRole('button', { name: 'Add course' }).click();
    await card(d.page, 'Added offline').waitFor();

    await waitForState(d.page, 'offline');
    await waitFor('pending count', async () => (await d.page.getByTestId('sync-indicator').getAttribute('data-pending')) === '3');
    await d.page.getByTestId('sync-indicator').getByText('Offline · 3 pending').waitFor();
    // The local copy survives a reload while still offline.
    await d.page.reload();
    await card(d.page, 'Added offline').waitFor();
    assert.equal(await progressOf(d.page, 'Offline one'), '10%');
    assert.equal((await serverCourse('off-1')).completionRatio, 0, 'nothing reached the server yet');

    await goOnline(d.context);
    await waitForState(d.page, 'synced', 40_000);
    const one = await serverCourse('off-1');
    assert.equal(one.completionRatio, 10);
    assert.equal(one.status, 'In Progress');
    assert.equal((await serverCourse('off-2')).isFavorite, true);
    assert.ok((await host.courses()).some((c) => c.title === 'Added offline'));
  });

  it('resolves a 412 by a three-way merge: both devices’ fields survive, the same-field clash is reported', async () => {
    await host.api('PUT', '/api/courses/clash', { title: 'Clash course', notes: 'original', date: '2025-01-01' });
    const a = await device();
    const b = await device();
    await card(a.page, 'Clash course').waitFor();
    await card(b.page, 'Clash course').waitFor();
    await goOffline(b.context);

    // A changes the category and the notes.
    await card(a.page, 'Clash course').getByRole('button', { name: 'Edit Clash course' }).click();
    let dialog = a.page.getByRole('dialog', { name: 'Edit course' });
    await dialog.getByLabel('Category').fill('From A');
    await dialog.getByLabel('Notes').fill('notes from A');
    await dialog.getByRole('button', { name: 'Save changes' }).click();
    await waitFor('A’s edit on the server', async () => (await serverCourse('clash'))?.category === 'From A');

    // B, still on the old rev, changes progress and the notes.
    await card(b.page, 'Clash course').getByRole('button', { name: 'Increase progress of Clash course by 5' }).click();
    await card(b.page, 'Clash course').getByRole('button', { name: 'Edit Clash course' }).click();
    dialog = b.page.getByRole('dialog', { name: 'Edit course' });
    await dialog.getByLabel('Notes').fill('notes from B');
    await dialog.getByRole('button', { name: 'Save changes' }).click();
    await waitForState(b.page, 'offline');

    const puts = [];
    b.page.on('response', (r) => r.request().method() === 'PUT' && puts.push(r.status()));
    await goOnline(b.context);
    await waitForState(b.page, 'synced', 40_000);
    assert.ok(puts.includes(412), `B's stale write was refused first (saw ${puts})`);
    const s = await serverCourse('clash');
    assert.equal(s.category, 'From A');
    assert.equal(s.completionRatio, 5);
    assert.equal(s.notes, 'notes from B');
    const notice = b.page.getByTestId('conflict-notice');
    await notice.waitFor();
    assert.match(await notice.innerText(), /notes/);
    assert.doesNotMatch(await notice.innerText(), /category|completionRatio/);
    await waitFor('A sees the merged course', async () => (await progressOf(a.page, 'Clash course')) === '5%');
    assert.equal(await a.page.getByTestId('conflict-notice').count(), 0);
  });

  it('moves the old app’s localStorage data to the server once, without duplicates', async () => {
    await host.api('PUT', '/api/courses/old-2', { title: 'Already on the server', date: '2025-01-01', completionRatio: 70, status: 'In Progress' });
    const old = [
      { id: 'old-1', title: 'Old app course', category: 'Legacy', date: '12/26/2025', completionRatio: 40, notes: '' },
      { id: 'old-2', title: 'Stale copy in the old app', category: 'Legacy', date: '1/2/2025', completionRatio: 0 },
      { id: 'old-3', title: 'Finished long ago', category: 'Legacy', date: '3/4/2024', completionRatio: 100, status: 'Completed' },
    ];
    const init = {
      fn: ({ courses, goal }) => {
        if (!localStorage.getItem('skilltrack_courses')) {
          localStorage.setItem('skilltrack_courses', courses);
          localStorage.setItem('skilltrack_monthly_goal', goal);
        }
      },
      arg: { courses: JSON.stringify(old), goal: '5' },
    };
    await host.api('DELETE', '/api/settings/monthly_goal');
    const d = await device({ init });
    await card(d.page, 'Old app course').waitFor();
    await waitForState(d.page, 'synced');
    await waitFor('migrated courses on the server', async () => (await serverCourse('old-3')) !== null);
    const one = await serverCourse('old-1');
    assert.equal(one.date, '2025-12-26');
    assert.equal(one.completionRatio, 40);
    assert.equal((await serverCourse('old-3')).status, 'Completed');
    assert.equal((await serverCourse('old-2')).title, 'Already on the server', 'the server copy is not overwritten');
    assert.equal((await host.api('GET', '/api/settings/monthly_goal')).json.value, 5);
    const count = (await host.courses()).length;

    // A reload, and a second device carrying the same old data, add nothing.
    await d.page.reload();
    await waitForState(d.page, 'synced');
    const other = await device({ init });
    await waitForState(other.page, 'synced');
    await other.page.waitForFunction(() => localStorage.getItem('skilltrack_migrated_v1') !== null);
    await waitForState(other.page, 'synced');
    assert.equal((await host.courses()).length, count);
    assert.equal(await d.page.evaluate(() => localStorage.getItem('skilltrack_migrated_v1') !== null), true);
  });
});

describe('token-protected API', () => {
  let secured, b2;
  before(async () => {
    secured = await startHost({ env: { SPIN_VARIABLE_API_TOKEN: 'e2e-secret' } });
    b2 = await launchBrowser();
  });
  after(async () => {
    await b2?.close();
    await secured?.stop();
  });

  it('asks for the token once on 401, keeps it, and sends it as a bearer token', async () => {
    const context = await b2.newContext();
    const page = await context.newPage();
    await page.goto(secured.url + '/');
    const dialog = page.getByRole('dialog', { name: 'Access token needed' });
    await dialog.waitFor();
    assert.equal(await syncState(page), 'auth');
    await dialog.getByLabel('Token').fill('e2e-secret');
    await dialog.getByRole('button', { name: 'Save token' }).click();
    await waitForState(page, 'synced');
    await page.getByRole('button', { name: 'Load sample courses' }).first().click();
    await waitForState(page, 'synced');
    const list = await secured.api('GET', '/api/courses');
    assert.ok(list.json.length >= 6);
    await page.reload();
    await waitForState(page, 'synced');
    assert.equal(await dialog.count(), 0, 'not asked again after a reload');
    await context.close();
  });
});

describe('server down', () => {
  let h, b;
  before(async () => {
    h = await startHost();
    b = await launchBrowser();
  });
  after(async () => {
    await b?.close();
    await h?.stop();
  });

  it('starts from the kept app shell and local copy when the server is gone, and keeps taking edits', async () => {
    const context = await b.newContext();
    const page = await context.newPage();
    await page.goto(h.url + '/');
    await page.getByRole('button', { name: 'Load sample courses' }).first().click();
    await waitForState(page, 'synced');
    await page.evaluate(() => navigator.serviceWorker.ready);
    await waitFor('shell cached', () => page.evaluate(async () => (await caches.keys()).length > 0 && !!(await caches.match('/'))));
    const before = (await h.courses()).length;
    assert.ok(before >= 6);

    await h.stop();
    await page.reload();
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    await waitForState(page, 'offline');
    await page.getByRole('link', { name: 'Library' }).first().click();
    const cards = page.locator('ul[aria-label="Courses"] article');
    await waitFor('courses from the local copy', async () => (await cards.count()) === before);
    await cards.first().getByRole('button', { name: /^Increase progress of/ }).click();
    await waitFor('edit queued', async () => (await page.getByTestId('sync-indicator').getAttribute('data-pending')) === '1');
    await context.close();
  });
});
