// A hot-swapped UI: after the static component is swapped on the admin API, a browser
// that reloads gets the new UI, with no restart and the data still there.
import assert from 'node:assert/strict';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REPO, buildStaticVariant, launchBrowser, openDevice, startHost, waitFor } from './harness.mjs';

const SWAPPED_TITLE = 'SkillTrack (new version)';

/** The static component built from a copy of web/dist whose index.html has another title. */
function buildVariant() {
  return buildStaticVariant((dist) => {
    cpSync(join(REPO, 'web', 'dist'), dist, { recursive: true });
    const index = join(dist, 'index.html');
    const html = readFileSync(index, 'utf8');
    assert.match(html, /<title>SkillTrack<\/title>/);
    writeFileSync(index, html.replace('<title>SkillTrack</title>', `<title>${SWAPPED_TITLE}</title>`));
  });
}

let host;
let browser;

describe('hot swap of the UI', () => {
  before(async () => {
    host = await startHost({ admin: true });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await host?.stop();
  });

  it('a_reload_after_swapping_the_static_component_shows_the_new_ui', async () => {
    const variant = buildVariant();
    const { page, context, problems } = await openDevice(browser, host);
    assert.equal(await page.title(), 'SkillTrack');
    await page.getByRole('button', { name: /add course/i }).first().waitFor();

    const swap = await fetch(`${host.adminUrl}/-/components/web`, { method: 'PUT', body: variant });
    const answer = await swap.text();
    assert.equal(swap.status, 200, answer);

    await waitFor('the new UI after a reload', async () => {
      await page.reload();
      return (await page.title()) === SWAPPED_TITLE;
    }, 10_000, 200);
    // The new version is a working app, not just a new title.
    await page.getByRole('button', { name: /add course/i }).first().waitFor();
    assert.deepEqual(problems, []);

    // And it can be undone.
    const rollback = await fetch(`${host.adminUrl}/-/components/web/rollback`, { method: 'POST' });
    assert.equal(rollback.status, 200, await rollback.text());
    await page.reload();
    assert.equal(await page.title(), 'SkillTrack');
    await context.close();
  });
});
