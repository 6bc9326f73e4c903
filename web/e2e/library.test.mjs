import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { card, launchBrowser, openDevice, startHost, waitFor, waitForState } from './harness.mjs';

let host, browser, dev;

const seed = [
  { id: 'seed-rust', title: 'Rust for beginners', category: 'Development', date: '2025-03-01', completionRatio: 0, sortOrder: 0 },
  { id: 'seed-piano', title: 'Piano basics', category: 'Music', date: '2025-05-10', completionRatio: 30, status: 'In Progress', sortOrder: 1 },
  { id: 'seed-algo', title: 'Algorithms', category: 'Development', date: '2024-11-20', completionRatio: 60, status: 'In Progress', sortOrder: 2, deadline: '2020-01-01' },
];

async function serverCourse(id) {
  const r = await host.api('GET', `/api/courses/${id}`);
  return r.status === 200 ? r.json : null;
}

async function titlesShown(page) {
  return page.locator('ul[aria-label="Courses"] article h3').allInnerTexts();
}

describe('library', () => {
  before(async () => {
    host = await startHost();
    for (const c of seed) assert.equal((await host.api('PUT', `/api/courses/${c.id}`, c)).status, 201);
    browser = await launchBrowser();
    dev = await openDevice(browser, host);
    await dev.page.getByRole('link', { name: 'Library' }).first().click();
    await waitFor('seeded courses shown', async () => (await titlesShown(dev.page)).length === 3);
  });
  after(async () => {
    assert.deepEqual(dev?.problems ?? [], []);
    await browser?.close();
    await host?.stop();
  });

  it('adds a course through the dialog, with the API’s validation messages first', async () => {
    const { page } = dev;
    await page.getByRole('button', { name: 'Add course' }).first().click();
    const dialog = page.getByRole('dialog', { name: 'Add course' });
    await dialog.getByLabel('Total lessons').fill('10');
    await dialog.getByLabel('Lessons done').fill('12');
    await dialog.getByRole('button', { name: 'Add course' }).click();
    await dialog.getByText('title must be 1..300 characters').waitFor();
    await dialog.getByText('completedLessons must not exceed totalLessons').waitFor();

    await dialog.getByLabel('Title').fill('Kubernetes in depth');
    await dialog.getByLabel('Category').fill('DevOps');
    await dialog.getByLabel('Lessons done').fill('2');
    await dialog.getByLabel('Notes').fill('Slides at https://example.com/k8s and javascript:alert(1)');
    await dialog.getByRole('button', { name: 'Add course' }).click();
    await card(page, 'Kubernetes in depth').waitFor();

    const created = await waitFor('course on the server', async () => (await host.courses()).find((c) => c.title === 'Kubernetes in depth'));
    assert.match(created.id, /^[0-9a-f-]{36}$/);
    assert.equal(created.category, 'DevOps');
    assert.equal(created.totalLessons, 10);
    assert.equal(created.completedLessons, 2);
    // Only the http(s) URL in the notes became a link.
    const links = await card(page, 'Kubernetes in depth').locator('.notes a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
    assert.deepEqual(links, ['https://example.com/k8s']);
    await waitForState(page, 'synced');
  });

  it('edits a course and the server gets the change', async () => {
    const { page } = dev;
    await card(page, 'Piano basics').getByRole('button', { name: 'Edit Piano basics' }).click();
    const dialog = page.getByRole('dialog', { name: 'Edit course' });
    await dialog.getByLabel('Title').fill('Piano for adults');
    await dialog.getByLabel('Deadline (optional)').fill('2030-06-30');
    await dialog.getByRole('button', { name: 'Save changes' }).click();
    await card(page, 'Piano for adults').waitFor();
    const s = await waitFor('edit on the server', async () => {
      const c = await serverCourse('seed-piano');
      return c?.title === 'Piano for adults' && c;
    });
    assert.equal(s.deadline, '2030-06-30');
    assert.equal(s.completionRatio, 30);
  });

  it('moves progress with +5/-5: leaving 0 starts a course, reaching 100 completes it', async () => {
    const { page } = dev;
    const rust = card(page, 'Rust for beginners');
    await rust.getByRole('button', { name: 'Increase progress of Rust for beginners by 5' }).click();
    await rust.getByText('In Progress', { exact: true }).waitFor();
    let s = await waitFor('progress on the server', async () => {
      const c = await serverCourse('seed-rust');
      return c?.completionRatio === 5 && c;
    });
    assert.equal(s.status, 'In Progress');

    const algo = card(page, 'Algorithms');
    for (let i = 0; i < 8; i++) await algo.getByRole('button', { name: 'Increase progress of Algorithms by 5' }).click();
    await algo.getByText('Completed', { exact: true }).waitFor();
    s = await waitFor('completion on the server', async () => {
      const c = await serverCourse('seed-algo');
      return c?.completionRatio === 100 && c;
    });
    assert.equal(s.status, 'Completed');
    assert.ok(s.completedAt, 'completedAt is stamped');
    await algo.getByRole('button', { name: 'Decrease progress of Algorithms by 5' }).click();
    s = await waitFor('reopened on the server', async () => {
      const c = await serverCourse('seed-algo');
      return c?.completionRatio === 95 && c;
    });
    assert.equal(s.status, 'In Progress');
    assert.equal(s.completedAt, null);
  });

  it('filters by category (sidebar counts), status and search, with "/" focusing the search', async () => {
    const { page } = dev;
    const side = page.getByRole('navigation', { name: 'Categories' });
    await side.getByRole('button', { name: /Development\s*2/ }).click();
    await waitFor('category view', async () => (await titlesShown(page)).length === 2);
    assert.deepEqual((await titlesShown(page)).sort(), ['Algorithms', 'Rust for beginners']);
    await page.getByRole('heading', { name: 'Development', level: 1 }).waitFor();

    await side.getByRole('button', { name: /All courses/ }).click();
    await page.getByLabel('Status').selectOption('In Progress');
    await waitFor('status filter', async () => (await titlesShown(page)).length === 3);
    await page.getByLabel('Status').selectOption('all');

    await page.locator('body').click({ position: { x: 5, y: 300 } });
    await page.keyboard.press('/');
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('aria-label')), 'Search courses');
    await page.keyboard.type('piano');
    await waitFor('search', async () => JSON.stringify(await titlesShown(page)) === JSON.stringify(['Piano for adults']));
    await page.getByLabel('Search courses').fill('');
  });

  it('sorts by title, progress, date and manual order, and moves a course down', async () => {
    const { page } = dev;
    const sortBy = (v) => page.getByLabel('Sort by').selectOption(v);
    await sortBy('title');
    await waitFor('title order', async () => (await titlesShown(page))[0] === 'Algorithms');
    assert.deepEqual(await titlesShown(page), ['Algorithms', 'Kubernetes in depth', 'Piano for adults', 'Rust for beginners']);
    await sortBy('progress');
    await waitFor('progress order', async () => (await titlesShown(page))[0] === 'Algorithms');
    assert.deepEqual((await titlesShown(page)).slice(0, 3), ['Algorithms', 'Piano for adults', 'Rust for beginners']);
    await sortBy('date');
    await waitFor('date order', async () => (await titlesShown(page)).at(-1) === 'Algorithms');
    await sortBy('manual');
    await waitFor('manual order', async () => (await titlesShown(page))[0] === 'Rust for beginners');
    await card(page, 'Rust for beginners').getByRole('button', { name: 'Move Rust for beginners down' }).click();
    await waitFor('moved', async () => (await titlesShown(page))[1] === 'Rust for beginners');
    await waitFor('order on the server', async () => {
      const [rust, piano] = [await serverCourse('seed-rust'), await serverCourse('seed-piano')];
      return rust.sortOrder > piano.sortOrder;
    });
  });

  it('archives after confirmation, hides archived courses unless asked, and restores', async () => {
    const { page } = dev;
    await card(page, 'Piano for adults').getByRole('button', { name: 'Archive Piano for adults' }).click();
    const confirm = page.getByRole('dialog', { name: 'Archive course?' });
    await confirm.getByRole('button', { name: 'Archive' }).click();
    await card(page, 'Piano for adults').waitFor({ state: 'detached' });
    await waitFor('archived on the server', async () => (await serverCourse('seed-piano'))?.isArchived === true);
    await page.getByLabel('Show archived').check();
    await card(page, 'Piano for adults').getByRole('button', { name: 'Restore Piano for adults' }).click();
    await waitFor('restored on the server', async () => (await serverCourse('seed-piano'))?.isArchived === false);
    await page.getByLabel('Show archived').uncheck();
  });

  it('deletes only after confirmation', async () => {
    const { page } = dev;
    await card(page, 'Rust for beginners').getByRole('button', { name: 'Delete Rust for beginners' }).click();
    let confirm = page.getByRole('dialog', { name: 'Delete course?' });
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    await waitForState(page, 'synced');
    assert.ok(await serverCourse('seed-rust'), 'cancel keeps the course');
    await card(page, 'Rust for beginners').getByRole('button', { name: 'Delete Rust for beginners' }).click();
    confirm = page.getByRole('dialog', { name: 'Delete course?' });
    await confirm.getByRole('button', { name: 'Delete' }).click();
    await card(page, 'Rust for beginners').waitFor({ state: 'detached' });
    await waitFor('deleted on the server', async () => (await serverCourse('seed-rust')) === null);
  });

  it('duplicates a course under a new id', async () => {
    const { page } = dev;
    await card(page, 'Algorithms').getByRole('button', { name: 'Duplicate Algorithms' }).click();
    const copy = await waitFor('copy on the server', async () => (await host.courses()).find((c) => c.title === 'Algorithms (copy)'));
    assert.notEqual(copy.id, 'seed-algo');
    assert.equal(copy.completionRatio, 95);
  });

  it('edits the monthly goal on the dashboard and stores it as a setting', async () => {
    const { page } = dev;
    await page.getByRole('link', { name: 'Dashboard' }).first().click();
    const before = Number(await page.getByTestId('goal-value').innerText());
    await page.getByRole('button', { name: 'Raise monthly goal' }).click();
    await page.getByRole('button', { name: 'Raise monthly goal' }).click();
    await page.getByRole('button', { name: 'Lower monthly goal' }).click();
    await waitFor('goal on the server', async () => (await host.api('GET', '/api/settings/monthly_goal')).json?.value === before + 1);
    await page.getByRole('button', { name: /Completed: / }).click();
    await waitFor('library filtered by the stat card', async () => (await page.getByLabel('Status').inputValue()) === 'Completed');
  });
});
