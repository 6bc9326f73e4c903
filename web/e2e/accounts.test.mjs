// Accounts (docs/accounts.md) in the browser: first-account setup, invites, one library
// per person, the team page, signing out, and a session that ends with edits queued.
// The real host with `auth = accounts`; every person is a browser context of their own.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { card, DESKTOP, goOffline, goOnline, launchBrowser, screenshot, startHost, unnamedControls, waitFor, waitForState } from './harness.mjs';

let host, browser;
const devices = [];
const PASSWORD = { admin: 'correct horse battery', bea: 'bea-secret-123', cal: 'cal-secret-456' };

/** A new device (own cookies and storage) on the app, signed in or not. */
async function device({ viewport = DESKTOP, path = '/' } = {}) {
  const context = await browser.newContext({ viewport, colorScheme: 'light', acceptDownloads: true });
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy|Refused to/i.test(m.text())) problems.push(`csp: ${m.text()}`);
  });
  await page.goto(host.url + path);
  const d = { context, page, problems };
  devices.push(d);
  return d;
}

function heading(page, name) {
  return page.getByRole('heading', { level: 1, name, exact: true });
}

async function fillCredentials(scope, username, password, confirm = undefined) {
  await scope.getByLabel('Username').fill(username);
  await scope.getByLabel('Password', { exact: true }).fill(password);
  if (confirm !== undefined) await scope.getByLabel('Confirm password').fill(confirm);
}

async function signIn(page, username) {
  await heading(page, 'Sign in').waitFor();
  await fillCredentials(page, username, PASSWORD[username]);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await waitForState(page, 'synced');
}

async function openMenu(page) {
  const button = page.getByRole('button', { name: /^Account: / });
  if ((await button.getAttribute('aria-expanded')) !== 'true') await button.click();
}

function menu(page) {
  return page.getByRole('navigation', { name: 'Account' });
}

async function goTo(page, view) {
  await page.evaluate((v) => (location.hash = `#/${v}`), view);
}

async function addCourse(page, title) {
  await page.getByRole('button', { name: 'Add course' }).first().click();
  const dialog = page.getByRole('dialog', { name: 'Add course' });
  await dialog.getByLabel('Title').fill(title);
  await dialog.getByLabel('Category').fill('Accounts');
  await dialog.getByRole('button', { name: 'Add course' }).click();
  await goTo(page, 'library');
  await card(page, title).waitFor();
  await waitForState(page, 'synced');
}

async function titlesShown(page) {
  await goTo(page, 'library');
  await page.locator('main').waitFor();
  return page.locator('ul[aria-label="Courses"] article h3').allInnerTexts();
}

async function databases(page) {
  return (await page.evaluate(() => indexedDB.databases())).map((d) => d.name).sort();
}

/** A personal API token made in the account page, for checking the server's copy. */
async function makeToken(page, name) {
  await goTo(page, 'account');
  const panel = page.getByTestId('api-tokens');
  await panel.getByLabel('Token name').fill(name);
  await panel.getByRole('button', { name: 'Create token' }).click();
  const token = await panel.getByTestId('new-token').inputValue();
  assert.match(token, /^st_/);
  return token;
}

async function apiAs(token, path) {
  const r = await host.api('GET', path, undefined, { Authorization: `Bearer ${token}` });
  assert.equal(r.status, 200, `${path}: ${r.text}`);
  return r.json;
}

function overflow(page) {
  return page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    if (document.documentElement.scrollWidth <= width) return null;
    const out = [...document.body.querySelectorAll('*')]
      .filter((e) => e.getBoundingClientRect().right > width + 0.5)
      .slice(-4)
      .map((e) => `${e.localName}.${typeof e.className === 'string' ? e.className : ''}`);
    return `${document.documentElement.scrollWidth} px in ${width}: ${out.join(', ')}`;
  });
}

/** Writes the local copy as the app wrote it without accounts: one course, queued. */
async function legacyCopy(course) {
  const db = await new Promise((ok, fail) => {
    const r = indexedDB.open('skilltrack', 1);
    r.onupgradeneeded = () => {
      r.result.createObjectStore('courses', { keyPath: 'id' });
      r.result.createObjectStore('queue', { keyPath: 'key' });
      r.result.createObjectStore('meta');
    };
    r.onsuccess = () => ok(r.result);
    r.onerror = () => fail(r.error);
  });
  const now = new Date().toISOString();
  const local = {
    id: course.id, title: course.title, category: 'Before', date: '2025-01-01', notes: '', completionRatio: 0, status: 'Pending',
    isFavorite: false, totalLessons: 0, completedLessons: 0, deadline: null, sortOrder: 0, pinnedToDashboard: false,
    isArchived: false, rev: 0, createdAt: now, updatedAt: now, completedAt: null,
  };
  await new Promise((ok, fail) => {
    const tx = db.transaction(['courses', 'queue'], 'readwrite');
    tx.objectStore('courses').put({ id: course.id, local, base: null });
    tx.objectStore('queue').put({ key: `course:${course.id}`, kind: 'course', target: course.id, seq: 1, enqueuedAt: Date.now() });
    tx.oncomplete = ok;
    tx.onerror = () => fail(tx.error);
  });
  db.close();
}

let admin, bea, beaToken, adminToken;

describe('accounts', () => {
  before(async () => {
    host = await startHost({ env: { SPIN_VARIABLE_AUTH: 'accounts' } });
    browser = await launchBrowser();
  });
  after(async () => {
    for (const d of devices) assert.deepEqual(d.problems, []);
    await browser?.close();
    await host?.stop();
  });

  it('the first visit sets up the first account, the administrator', async () => {
    const state = await host.api('GET', '/api/auth/state');
    assert.equal(state.json.mode, 'accounts');
    assert.equal(state.json.setupRequired, true);

    admin = await device();
    const { page } = admin;
    await heading(page, 'Create the first account').waitFor();
    // This device ran the app before the server had accounts, and an edit is still queued.
    await page.evaluate(legacyCopy, { id: 'legacy-1', title: 'Course from before accounts' });
    // Mistakes are caught before anything is sent, and said where the screen reader is.
    await fillCredentials(page, 'admin', PASSWORD.admin, 'something else');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByRole('alert').filter({ hasText: 'The two passwords differ.' }).waitFor();
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('autocomplete')), 'new-password');

    await page.getByLabel('Confirm password').fill(PASSWORD.admin);
    await page.getByRole('button', { name: 'Create account' }).click();
    await waitForState(page, 'synced');
    await page.getByRole('button', { name: 'Account: admin' }).waitFor();
    assert.equal((await host.api('GET', '/api/auth/state')).json.setupRequired, false);

    // The local copy is this account's own.
    const me = (await page.evaluate(() => JSON.parse(localStorage.getItem('skilltrack_auth')))).account;
    assert.equal(me.username, 'admin');
    assert.equal(me.id, 1);
    // The administrator keeps the library of before: the device's old copy moved into
    // theirs, and its queued edit reached the server as theirs.
    await waitFor('the old copy moved', async () => {
      const names = await databases(page);
      return names.includes('skilltrack-account-1') && !names.includes('skilltrack');
    });
    await goTo(page, 'library');
    await card(page, 'Course from before accounts').waitFor();
    await waitForState(page, 'synced');
  });

  it('sign-in errors are spelled out', async () => {
    const d = await device();
    await heading(d.page, 'Sign in').waitFor();
    await fillCredentials(d.page, 'admin', 'not the password');
    await d.page.getByRole('button', { name: 'Sign in' }).click();
    await d.page.getByRole('alert').filter({ hasText: 'Wrong username or password.' }).waitFor();
    // A 429 says how long to wait (the server's Retry-After).
    await d.context.route('**/api/auth/sign-in', (route) =>
      route.fulfill({
        status: 429,
        headers: { 'Retry-After': '42' },
        contentType: 'application/json',
        body: JSON.stringify({ error: { code: 'too_many_attempts', message: 'slow down' } }),
      }),
    );
    await d.page.getByRole('button', { name: 'Sign in' }).click();
    await d.page.getByRole('alert').filter({ hasText: 'Too many attempts. Try again in 42 seconds.' }).waitFor();
    await d.context.close();
  });

  it('the administrator invites someone, who joins on another device', async () => {
    const { page } = admin;
    await openMenu(page);
    await menu(page).getByRole('link', { name: 'People' }).click();
    await heading(page, 'People').waitFor();
    await page.getByRole('button', { name: 'Create invite link' }).click();
    const link = await page.getByTestId('invite-link').inputValue();
    assert.ok(link.startsWith(host.url + '/'), link);
    await page.getByTestId('invites-list').locator('li').first().waitFor();

    bea = await device({ path: link.slice(host.url.length) });
    await heading(bea.page, 'Join SkillTrack').waitFor();
    await fillCredentials(bea.page, 'bea', PASSWORD.bea, PASSWORD.bea);
    await bea.page.getByRole('button', { name: 'Create my account' }).click();
    await waitForState(bea.page, 'synced');
    await bea.page.getByRole('button', { name: 'Account: bea' }).waitFor();
    // Not an administrator: no People page.
    await openMenu(bea.page);
    assert.equal(await menu(bea.page).getByRole('link', { name: 'People' }).count(), 0);
    await bea.page.keyboard.press('Escape');

    // Used once: the same link now says so.
    const again = await device({ path: link.slice(host.url.length) });
    await again.page.getByTestId('invite-invalid').filter({ hasText: 'not valid' }).waitFor();
    await again.context.close();

    // A taken username is named as such.
    await page.getByRole('button', { name: 'Create invite link' }).click();
    const second = await waitFor('a second invite link', async () => {
      const v = await page.getByTestId('invite-link').inputValue();
      return v !== link && v;
    });
    const taken = await device({ path: second.slice(host.url.length) });
    await heading(taken.page, 'Join SkillTrack').waitFor();
    await fillCredentials(taken.page, 'BEA', PASSWORD.cal, PASSWORD.cal);
    await taken.page.getByRole('button', { name: 'Create my account' }).click();
    await taken.page.getByRole('alert').filter({ hasText: 'That username is taken' }).waitFor();
    await taken.context.close();
    // Opened by someone signed in, the link says what it is for instead.
    await page.goto(second);
    await page.getByText('You are signed in as admin. To use the invite link').waitFor();
    assert.equal(await page.evaluate(() => location.hash), '#/dashboard');

    // The administrator sees both accounts, and can revoke the unused invite.
    await goTo(page, 'people');
    await page.reload();
    await heading(page, 'People').waitFor();
    await page.locator('[data-testid="account-row"][data-username="bea"]').waitFor();
    await page.getByRole('button', { name: /^Revoke the invite/ }).first().click();
    await page.getByText('Invite revoked').waitFor();
    await waitFor('no pending invites', async () => (await page.getByTestId('invites-list').count()) === 0);
  });

  it('two people on two devices each see only their own library', async () => {
    await addCourse(admin.page, 'Admin only course');
    await addCourse(bea.page, 'Bea only course');
    await admin.page.reload();
    await bea.page.reload();
    await waitForState(admin.page, 'synced');
    await waitForState(bea.page, 'synced');
    assert.deepEqual((await titlesShown(admin.page)).sort(), ['Admin only course', 'Course from before accounts']);
    assert.deepEqual(await titlesShown(bea.page), ['Bea only course']);

    beaToken = await makeToken(bea.page, 'e2e check');
    adminToken = await makeToken(admin.page, 'e2e check');
    const beaServer = await apiAs(beaToken, '/api/courses');
    assert.deepEqual(beaServer.map((c) => c.title), ['Bea only course']);
    const adminServer = await apiAs(adminToken, '/api/courses');
    assert.deepEqual(adminServer.map((c) => c.title).sort(), ['Admin only course', 'Course from before accounts']);
  });

  it('personal API tokens are listed with their last use and can be revoked', async () => {
    const { page } = bea;
    await goTo(page, 'account');
    const panel = page.getByTestId('api-tokens');
    await panel.getByRole('button', { name: 'Done' }).click();
    assert.equal(await panel.getByTestId('new-token').count(), 0);
    const throwaway = await makeToken(page, 'throwaway');
    await apiAs(throwaway, '/api/courses');
    await page.reload();
    await panel.getByText('throwaway').waitFor();
    await panel.getByRole('button', { name: 'Revoke token throwaway' }).click();
    await page.getByRole('dialog', { name: 'Revoke “throwaway”?' }).getByRole('button', { name: 'Revoke' }).click();
    await page.getByText('Token “throwaway” revoked').waitFor();
    const r = await host.api('GET', '/api/courses', undefined, { Authorization: `Bearer ${throwaway}` });
    assert.equal(r.status, 401);
  });

  it('the team page shows a person after they opt in and not after they opt out', async () => {
    await goTo(admin.page, 'team');
    await heading(admin.page, 'Team').waitFor();
    const member = (page, name) => page.getByTestId('team-member').filter({ has: page.getByRole('heading', { name, exact: true }) });

    // Started: the course is what bea studies now.
    await goTo(bea.page, 'library');
    await card(bea.page, 'Bea only course').getByRole('button', { name: 'Increase progress of Bea only course by 5' }).click();
    await waitForState(bea.page, 'synced');
    await goTo(bea.page, 'account');
    const share = bea.page.getByLabel('Share my progress with the team');
    await share.check();
    await waitFor('sharing on', async () => (await share.isChecked()) && !(await share.isDisabled()));
    await admin.page.getByRole('button', { name: 'Refresh' }).click();
    await member(admin.page, 'bea').waitFor();
    await member(admin.page, 'bea').getByText('Bea only course').waitFor();
    await member(admin.page, 'bea').getByRole('progressbar', { name: 'bea: Bea only course progress' }).waitFor();

    await share.uncheck();
    await waitFor('sharing off', async () => !(await share.isChecked()) && !(await share.isDisabled()));
    await admin.page.getByRole('button', { name: 'Refresh' }).click();
    await waitFor('bea gone from the team page', async () => (await member(admin.page, 'bea').count()) === 0);
  });

  it('an ended session asks for sign-in again and keeps the queued edits', async () => {
    const { page, context } = bea;
    await goTo(page, 'library');
    await goOffline(context);
    await card(page, 'Bea only course').getByRole('button', { name: 'Increase progress of Bea only course by 5' }).click();
    await waitForState(page, 'offline');
    // Signed out elsewhere meanwhile: the cookie this device holds no longer works.
    const other = await device();
    await signIn(other.page, 'bea');
    await openMenu(other.page);
    await menu(other.page).getByRole('button', { name: 'Sign out everywhere' }).click();
    await other.page.getByRole('dialog', { name: 'Sign out everywhere?' }).getByRole('button', { name: 'Sign out everywhere' }).click();
    await heading(other.page, 'Sign in').waitFor();
    await goOnline(context);

    await waitForState(page, 'auth');
    const dialog = page.getByRole('dialog', { name: 'Sign in again' });
    await dialog.getByTestId('session-ended').filter({ hasText: '1 edit is kept on this device' }).waitFor();
    assert.equal(Number(await page.getByTestId('sync-indicator').getAttribute('data-pending')), 1);
    await dialog.getByLabel('Password', { exact: true }).fill(PASSWORD.bea);
    await dialog.getByRole('button', { name: 'Sign in' }).click();
    await waitForState(page, 'synced');
    const server = await apiAs(beaToken, '/api/courses');
    assert.equal(server.find((c) => c.title === 'Bea only course').completionRatio, 10);
  });

  it('after a reload with the session gone, signing in as the same person sends the queue', async () => {
    const { page, context } = bea;
    await goOffline(context);
    await card(page, 'Bea only course').getByRole('button', { name: 'Increase progress of Bea only course by 5' }).click();
    await waitForState(page, 'offline');
    await context.clearCookies();
    await goOnline(context);
    await page.reload();
    await heading(page, 'Sign in').waitFor();
    await page.getByTestId('kept-edits-note').waitFor();
    assert.equal(await page.getByLabel('Username').inputValue(), 'bea');
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD.bea);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await waitForState(page, 'synced');
    const server = await apiAs(beaToken, '/api/courses');
    assert.equal(server.find((c) => c.title === 'Bea only course').completionRatio, 15);
  });

  it('another person signing in does not send the first one’s queue', async () => {
    const { page, context } = bea;
    await goTo(page, 'library');
    await goOffline(context);
    await card(page, 'Bea only course').getByRole('button', { name: 'Increase progress of Bea only course by 5' }).click();
    await waitForState(page, 'offline');
    await context.clearCookies();
    await goOnline(context);
    await waitForState(page, 'auth');
    const dialog = page.getByRole('dialog', { name: 'Sign in again' });
    await dialog.getByLabel('Username').fill('admin');
    await dialog.getByLabel('Password', { exact: true }).fill(PASSWORD.admin);
    await dialog.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Account: admin' }).waitFor();
    await waitForState(page, 'synced');
    assert.deepEqual((await titlesShown(page)).sort(), ['Admin only course', 'Course from before accounts']);
    // Bea's edit stayed queued in bea's copy; nothing reached either library.
    const beaServer = await apiAs(beaToken, '/api/courses');
    assert.equal(beaServer.find((c) => c.title === 'Bea only course').completionRatio, 15);
    const adminServer = await apiAs(adminToken, '/api/courses');
    assert.deepEqual(adminServer.map((c) => c.title).sort(), ['Admin only course', 'Course from before accounts']);
    // Back to bea on this device: her kept edit goes out under her own session.
    await openMenu(page);
    await menu(page).getByRole('button', { name: 'Sign out', exact: true }).click();
    await page.getByRole('dialog', { name: 'Sign out?' }).getByRole('button', { name: 'Sign out' }).click();
    await signIn(page, 'bea');
    await waitFor('bea’s kept edit on the server', async () => {
      const s = await apiAs(beaToken, '/api/courses');
      return s.find((c) => c.title === 'Bea only course').completionRatio === 20;
    });
  });

  it('signing out removes the account’s local copy from the device', async () => {
    const { page } = bea;
    const me = (await page.evaluate(() => JSON.parse(localStorage.getItem('skilltrack_auth')))).account;
    const name = `skilltrack-account-${me.id}`;
    assert.ok((await databases(page)).includes(name));
    await openMenu(page);
    await menu(page).getByRole('button', { name: 'Sign out', exact: true }).click();
    await page.getByRole('dialog', { name: 'Sign out?' }).getByRole('button', { name: 'Sign out' }).click();
    await heading(page, 'Sign in').waitFor();
    await waitFor('the local copy deleted', async () => !(await databases(page)).includes(name));
    assert.equal((await page.evaluate(() => JSON.parse(localStorage.getItem('skilltrack_auth')))).account, null);
    // And the session is over on the server too.
    const state = await page.evaluate(() => fetch('/api/auth/state').then((r) => r.json()));
    assert.equal(state.account, null);
  });

  it('the administrator disables, enables and removes an account', async () => {
    const { page } = admin;
    await goTo(page, 'people');
    const row = page.locator('[data-testid="account-row"][data-username="bea"]');
    await row.getByRole('button', { name: 'Disable bea' }).click();
    await page.getByRole('dialog', { name: 'Disable bea?' }).getByRole('button', { name: 'Disable' }).click();
    await row.getByTestId('account-status').filter({ hasText: 'disabled' }).waitFor();
    await row.getByRole('button', { name: 'Enable bea' }).click();
    await row.getByTestId('account-status').filter({ hasText: 'active' }).waitFor();

    await row.getByRole('button', { name: 'Remove bea' }).click();
    const dialog = page.getByRole('dialog', { name: 'Remove bea?' });
    const download = page.waitForEvent('download');
    await dialog.getByRole('button', { name: 'Download their export first' }).click();
    const file = await download;
    assert.match(file.suggestedFilename(), /^skilltrack-bea-.*\.json$/);
    const remove = dialog.getByRole('button', { name: 'Remove account' });
    assert.equal(await remove.isDisabled(), true);
    await dialog.getByLabel('Type bea to confirm').fill('bea');
    await remove.click();
    await page.getByText('bea removed').waitFor();
    await waitFor('bea gone from the list', async () => (await row.count()) === 0);
  });

  for (const [label, viewport] of [['phone, 375 px', { width: 375, height: 740 }], ['desktop', DESKTOP]]) {
    it(`the new screens fit and name every control (${label})`, async () => {
      const problems = [];
      const check = async (page, where) => {
        const o = await overflow(page);
        if (o) problems.push(`${where}: ${o}`);
        const unnamed = await unnamedControls(page);
        if (unnamed.length) problems.push(`${where}: unnamed ${unnamed.join(', ')}`);
        await screenshot(page, `accounts-${where}-${viewport.width}`);
      };
      const d = await device({ viewport });
      await heading(d.page, 'Sign in').waitFor();
      await check(d.page, 'sign-in');
      await signIn(d.page, 'admin');
      await openMenu(d.page);
      await menu(d.page).getByRole('link', { name: 'Team' }).waitFor();
      await check(d.page, 'menu');
      await d.page.keyboard.press('Escape');
      // Escape closes the menu and gives focus back to its button.
      assert.equal(await d.page.evaluate(() => document.activeElement?.getAttribute('aria-label')), 'Account: admin');
      for (const [view, title] of [['account', 'Your account'], ['team', 'Team'], ['people', 'People']]) {
        await goTo(d.page, view);
        await heading(d.page, title).waitFor();
        await check(d.page, view);
      }
      await d.page.getByRole('button', { name: 'Create invite link' }).click();
      const link = await d.page.getByTestId('invite-link').inputValue();
      await check(d.page, 'people-with-link');
      const invited = await device({ viewport, path: link.slice(host.url.length) });
      await heading(invited.page, 'Join SkillTrack').waitFor();
      await invited.page.getByLabel('Confirm password').waitFor();
      await check(invited.page, 'invite');
      await d.context.clearCookies();
      await goTo(d.page, 'dashboard');
      await waitForState(d.page, 'auth');
      await d.page.getByRole('dialog', { name: 'Sign in again' }).getByLabel('Password', { exact: true }).waitFor();
      await check(d.page, 'session-ended');
      await d.page.getByRole('dialog', { name: 'Sign in again' }).getByRole('button', { name: 'Later' }).click();
      await d.page.getByRole('button', { name: 'Sign in', exact: true }).waitFor();
      await check(d.page, 'signed-out-app');
      assert.deepEqual(problems, []);
    });
  }
});
