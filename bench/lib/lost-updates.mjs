// Lost updates under concurrent writers: N clients each increment a different
// course's completionRatio K times, each increment a read-modify-write as the
// client of that design does it. Afterwards every course should stand at K;
// whatever is missing was lost.
import { json, sendJson } from './http.mjs';

/** The seed's way: read the whole list, change one course, post the whole list. */
async function seedIncrement(url, id) {
  const list = (await json(`${url}/api/courses`)).json;
  const course = list.find((c) => c.id === id);
  course.completionRatio += 1;
  const res = await sendJson(`${url}/api/courses`, 'POST', list);
  if (res.status !== 200) throw new Error(`seed POST /api/courses: ${res.status}`);
}

/** Ours: read one course, PATCH that course. */
async function patchIncrement(url, id) {
  const path = `${url}/api/courses/${encodeURIComponent(id)}`;
  const course = (await json(path)).json;
  const res = await sendJson(path, 'PATCH', { completionRatio: course.completionRatio + 1 });
  if (res.status !== 200) throw new Error(`PATCH ${path}: ${res.status} ${JSON.stringify(res.json)}`);
}

async function ratioOf(url, id, perCourse) {
  if (perCourse) return (await json(`${url}/api/courses/${encodeURIComponent(id)}`)).json.completionRatio;
  return (await json(`${url}/api/courses`)).json.find((c) => c.id === id).completionRatio;
}

/**
 * Runs the experiment against one server. `style` is 'seed' or 'patch'.
 * `urls` is one base URL, or several replicas of one server: then client i goes
 * through replica i mod n (resets and the final reads through the first).
 * Returns { clients, incrementsEach, expected, applied, lost, replicas }.
 */
export async function lostUpdates(urls, ids, style, { clients = 8, incrementsEach = 20 } = {}) {
  const replicas = Array.isArray(urls) ? urls : [urls];
  const url = replicas[0];
  const targets = ids.slice(0, clients);
  // Start every target course at 0.
  if (style === 'seed') {
    const list = (await json(`${url}/api/courses`)).json;
    for (const c of list) if (targets.includes(c.id)) c.completionRatio = 0;
    await sendJson(`${url}/api/courses`, 'POST', list);
  } else {
    // Checked and retried: a reset that failed unnoticed would start a course above 0
    // (a negative loss; seen once with Spin right after its write scenario).
    for (const id of targets) {
      let res;
      for (let attempt = 0; attempt < 5; attempt++) {
        res = await sendJson(`${url}/api/courses/${encodeURIComponent(id)}`, 'PATCH', { completionRatio: 0 });
        if (res.status === 200) break;
      }
      if (res.status !== 200) throw new Error(`resetting ${id}: ${res.status}`);
    }
  }
  const increment = style === 'seed' ? seedIncrement : patchIncrement;
  await Promise.all(targets.map(async (id, c) => {
    for (let i = 0; i < incrementsEach; i++) await increment(replicas[c % replicas.length], id);
  }));
  let applied = 0;
  for (const id of targets) applied += await ratioOf(url, id, style !== 'seed');
  const expected = clients * incrementsEach;
  return { clients, incrementsEach, expected, applied, lost: expected - applied, replicas: replicas.length };
}
