// "Subscribe in your calendar": the Data page makes a secret feed link, a calendar
// app (a plain GET without the API token) reads the deadlines from it, an event's
// link opens the course in the app, and turning the link off closes the feed.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { launchBrowser, openDevice, screenshot, startHost, waitFor } from './harness.mjs';

const TITLE = 'Rust, the hard way; part 2 🦀';

let host;
let browser;

/** What a calendar app does: fetch the link, nothing else. */
async function subscribe(link) {
  const r = await fetch(link);
  return { status: r.status, type: r.headers.get('content-type'), text: await r.text() };
}

describe('calendar feed', () => {
  before(async () => {
    host = await startHost({ env: { SPIN_VARIABLE_API_TOKEN: 'e2e-api-token' } });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await host?.stop();
  });

  it('a_link_made_in_the_app_feeds_a_calendar_until_it_is_turned_off', async () => {
    const put = await host.api('PUT', '/api/courses/cal-1', { id: 'cal-1', title: TITLE, category: 'Systems', deadline: '2026-09-30' });
    assert.equal(put.status, 201, put.text);
    // The API token is required here: the app asks for it once, as on any such server.
    const init = { fn: (t) => localStorage.setItem('skilltrack_api_token', t), arg: 'e2e-api-token' };
    const { page, context, problems } = await openDevice(browser, host, { init });

    await page.getByRole('link', { name: /Import & export/ }).first().click();
    const section = page.getByTestId('calendar-feed');
    await section.getByRole('heading', { name: 'Subscribe in your calendar' }).waitFor();
    await section.getByRole('button', { name: 'Create calendar link' }).click();
    const input = section.getByLabel('Calendar link');
    await input.waitFor();
    const link = await input.inputValue();
    // `<owner>.<random>`: feed tokens name their owner, here owner 1 (docs/accounts.md).
    assert.match(link, new RegExp(`^${host.url}/api/calendar\\.ics\\?token=1\\.[0-9a-f]{64}$`));
    assert.ok(!link.includes('e2e-api-token'), 'the feed link is not the API token');
    const webcal = await section.getByRole('link', { name: 'open it in your calendar app' }).getAttribute('href');
    assert.equal(webcal, link.replace(/^http:/, 'webcal:'));
    await screenshot(page, 'calendar-link');

    const feed = await subscribe(link);
    assert.equal(feed.status, 200);
    assert.equal(feed.type, 'text/calendar; charset=utf-8');
    const unfolded = feed.text.replaceAll('\r\n ', '');
    assert.match(unfolded, /\r\nSUMMARY:Deadline: Rust\\, the hard way\\; part 2 🦀\r\n/);
    assert.match(unfolded, /\r\nDTSTART;VALUE=DATE:20260930\r\n/);
    const url = /\r\nURL:([^\r]+)\r\n/.exec(unfolded)?.[1];
    assert.equal(url, `${host.url}/#/course/cal-1`);

    // The event's link opens that course in the app.
    await page.goto(url);
    const dialog = page.getByRole('dialog', { name: 'Edit course' });
    await dialog.waitFor();
    assert.equal(await dialog.getByLabel('Title').inputValue(), TITLE);
    await dialog.getByRole('button', { name: 'Close' }).click();

    // Another device sees that a link is on, without its secret.
    const other = await openDevice(browser, host, { init });
    await other.page.goto(host.url + '/#/data');
    await other.page.getByTestId('calendar-link-elsewhere').waitFor();
    assert.equal(await other.page.getByLabel('Calendar link').count(), 0);
    await other.context.close();

    await page.goto(host.url + '/#/data');
    await section.getByLabel('Calendar link').waitFor();
    await section.getByRole('button', { name: 'Turn off' }).click();
    await page.getByRole('dialog', { name: 'Turn the calendar link off?' }).getByRole('button', { name: 'Turn off' }).click();
    await section.getByRole('button', { name: 'Create calendar link' }).waitFor();
    assert.equal(await section.getByLabel('Calendar link').count(), 0);
    await waitFor('the old link closed', async () => (await subscribe(link)).status === 404);
    assert.deepEqual(problems, []);
    await context.close();
  });
});
