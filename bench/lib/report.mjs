// Renders target/bench/results.json as Markdown.

const fmtInt = (n) => (n === null || n === undefined || Number.isNaN(n) ? '-' : Math.round(n).toLocaleString('en-US'));
const fmtMs = (us) => (us === null || us === undefined ? '-' : (us / 1000).toFixed(us < 10000 ? 2 : 1));
const fmtMiB = (kib) => (kib === null || kib === undefined ? '-' : (kib / 1024).toFixed(1));
const fmtRatio = (r) => (r === null || r === undefined || !Number.isFinite(r) ? '-' : `${r.toFixed(2)}x`);

/** Throughput and latency of one scenario run, as the scenario means them. */
export function figures(run) {
  if (!run || run.skipped || run.rps === undefined) return null;
  if (run.mode === 'rmw') {
    return { perS: run.updates_per_s, p50: run.update_p50_us, p99: run.update_p99_us, rss: run.peakRssKib, errors: run.failed_updates };
  }
  const e = run.errors ?? {};
  return { perS: run.rps, p50: run.p50_us, p99: run.p99_us, rss: run.peakRssKib, errors: (e.connect ?? 0) + (e.read ?? 0) + (e.write ?? 0) + (e.status ?? 0) + (e.timeout ?? 0) };
}

function get(results, server, key) {
  return figures(results.servers[server]?.scenarios?.[key]);
}

/** req/s, flagged when some requests failed (then the rate is not comparable). */
function rate(f) {
  if (!f) return '-';
  return f.errors ? `${fmtInt(f.perS)} (**${fmtInt(f.errors)} errors**)` : fmtInt(f.perS);
}

function ratio(a, b) {
  return a && b && b.perS ? a.perS / b.perS : null;
}

function summaryTable(r) {
  const rows = [
    '| scenario | host req/s | host p50 ms | host p99 ms | host peak RSS MiB | spin req/s | host/spin | native req/s | host/native | seed req/s | host/seed |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  const other = (sc, name) => (sc.servers.includes(name) ? get(r, name, sc.key) : null);
  const cell = (sc, name, f) => (sc.servers.includes(name) ? (r.servers[name]?.unavailable ? 'skipped' : rate(f)) : 'n/a');
  for (const sc of r.scenarios) {
    const h = get(r, 'host', sc.key);
    const p = other(sc, 'spin');
    const n = other(sc, 'native');
    const s = other(sc, 'seed');
    const label = sc.key === 'write' ? `${sc.label} (host, spin, native: PATCH; seed: GET + POST of the whole list; per update)` : sc.label;
    rows.push(`| ${label} | ${rate(h)} | ${fmtMs(h?.p50)} | ${fmtMs(h?.p99)} | ${fmtMiB(h?.rss)} | ${cell(sc, 'spin', p)} | ${fmtRatio(ratio(h, p))} | ${cell(sc, 'native', n)} | ${fmtRatio(ratio(h, n))} | ${cell(sc, 'seed', s)} | ${fmtRatio(ratio(h, s))} |`);
  }
  return rows.join('\n');
}

/** host in PostgreSQL mode, 1 and 3 replicas, against host on SQLite from the same run. */
function pgSection(r) {
  const names = ['host-pg', 'host-pg-x3'];
  if (!names.some((n) => r.servers[n])) return 'Not run (`BENCH_SERVERS` left out host-pg and host-pg-x3).';
  if (r.postgres?.unavailable) return `Skipped: ${r.postgres.unavailable}.`;
  const pg = r.postgres ?? {};
  const st = pg.settings ?? {};
  const split = (key) => r.servers['host-pg-x3']?.scenarios?.[key]?.split;
  const splitText = (parts) => (parts ? parts.map((p) => `${p.connections} connections on ${p.threads} thread${p.threads > 1 ? 's' : ''}`).join(' / ') : '-');
  const rows = [
    `PostgreSQL ${pg.version ?? '?'} started by the bench on a temp dir on the same disk as the SQLite data dirs, loopback TCP, a database per server; durability as shipped: fsync=${st.fsync ?? '?'}, synchronous_commit=${st.synchronous_commit ?? '?'} (wal_sync_method=${st.wal_sync_method ?? '?'}, full_page_writes=${st.full_page_writes ?? '?'}, shared_buffers=${st.shared_buffers ?? '?'}), against the host's SQLite in WAL with synchronous=FULL: both make a commit durable before answering.`,
    `**host-pg**: one tracker-host with \`database_url\` set. **host-pg x3**: three tracker-host replicas on one database, each with its own data dir; the load is one wrk per replica, all three at once, the same total connections split (reads: ${splitText(split('setting'))}; writes: ${splitText(split('write'))}); req/s are the sum of the three, p50/p99 the worst of the three (wrk gives percentiles, not histograms), peak RSS the sum of the three hosts. PostgreSQL's own processes are not in the RSS. Seeded through the first replica with the same ${r.settings.courses} courses as every server. ${r.settings.pgSeconds ?? r.settings.seconds} s measured per scenario (the others: ${r.settings.seconds} s) after ${r.settings.warmupSeconds} s warm-up. Everything (wrk, the hosts, PostgreSQL) shares the same ${r.machine.cores} cores.`,
    '',
    '| scenario | host (SQLite) req/s | host-pg req/s | host-pg p50 ms | host-pg p99 ms | host-pg/host | host-pg x3 req/s | x3 p50 ms | x3 p99 ms | x3/host | x3/host-pg |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  const cell = (name, f) => (r.servers[name]?.unavailable ? 'skipped' : rate(f));
  for (const sc of r.scenarios) {
    if (!names.some((n) => sc.servers.includes(n))) continue;
    const h = get(r, 'host', sc.key);
    const p1 = get(r, 'host-pg', sc.key);
    const p3 = get(r, 'host-pg-x3', sc.key);
    rows.push(`| ${sc.label} | ${rate(h)} | ${cell('host-pg', p1)} | ${fmtMs(p1?.p50)} | ${fmtMs(p1?.p99)} | ${fmtRatio(ratio(p1, h))} | ${cell('host-pg-x3', p3)} | ${fmtMs(p3?.p50)} | ${fmtMs(p3?.p99)} | ${fmtRatio(ratio(p3, h))} | ${fmtRatio(ratio(p3, p1))} |`);
  }
  for (const n of names) {
    if (r.servers[n]?.unavailable) rows.push('', `${n}: not available: ${r.servers[n].unavailable}`);
  }
  return rows.join('\n');
}

function detailTable(r) {
  const rows = [
    '| server | scenario | req/s (updates/s) | p50 ms | p99 ms | max ms | peak RSS MiB | errors | response checked |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ];
  for (const [name, srv] of Object.entries(r.servers)) {
    if (srv.unavailable) {
      rows.push(`| ${name} | - | not available: ${srv.unavailable} | | | | | | |`);
      continue;
    }
    for (const sc of r.scenarios) {
      const run = srv.scenarios?.[sc.key];
      if (!run) continue;
      if (run.skipped) {
        rows.push(`| ${name} | ${sc.key} | skipped: ${run.skipped} | | | | | | |`);
        continue;
      }
      const f = figures(run);
      const check = run.check ? `${run.check.status}, ${fmtInt(run.check.bytes)} B, ${run.check.contentEncoding}` : '-';
      rows.push(`| ${name} | ${sc.key} | ${fmtInt(f.perS)} | ${fmtMs(f.p50)} | ${fmtMs(f.p99)} | ${run.mode === 'rmw' ? '-' : fmtMs(run.max_us)} | ${fmtMiB(f.rss)} | ${f.errors} | ${check} |`);
    }
  }
  return rows.join('\n');
}

function targetsTable(r) {
  const host = (k) => get(r, 'host', k);
  const rows = ['| target | measured | met |', '| --- | --- | --- |'];
  const mark = (ok) => (ok === null ? 'not measured' : ok ? 'yes' : '**no**');
  // Issue 15: the fixed cost of a request, against Spin and the seed.
  for (const sc of r.scenarios) {
    if (!sc.servers.includes('spin')) continue;
    const q = ratio(host(sc.key), get(r, 'spin', sc.key));
    rows.push(`| ${sc.key}: host >= 1.2x Spin | ${fmtRatio(q)} | ${mark(q === null ? null : q >= 1.2)} |`);
  }
  // The seed has no change feed: its poll is the list with a matching If-None-Match.
  for (const [k, seedKey] of [['health', 'health'], ['setting', 'setting'], ['poll_changes', 'poll_etag']]) {
    const q = ratio(host(k), get(r, 'seed', seedKey));
    const what = seedKey === k ? 'the seed' : `the seed's ${seedKey}`;
    rows.push(`| ${k}: host >= ${what} | ${fmtRatio(q)} | ${mark(q === null ? null : q >= 1)} |`);
  }
  for (const k of ['get_courses', 'poll_changes', 'poll_etag']) {
    const q = ratio(host(k), get(r, 'native', k));
    rows.push(`| ${k}: host/native >= 0.5 | ${fmtRatio(q)} | ${mark(q === null ? null : q >= 0.5)} |`);
  }
  for (const k of ['poll_changes', 'poll_etag']) {
    const h = host(k);
    rows.push(`| idle sync poll (${k}) >= 5,000 req/s | ${fmtInt(h?.perS)} req/s | ${mark(h ? h.perS >= 5000 : null)} |`);
  }
  const gc = ratio(host('get_courses'), get(r, 'seed', 'get_courses'));
  rows.push(`| \`GET /api/courses\` >= 2x the seed | ${fmtRatio(gc)} | ${mark(gc === null ? null : gc >= 2)} |`);
  const w = ratio(host('write'), get(r, 'seed', 'write'));
  const lostHost = r.servers.host?.lostUpdates?.lost;
  const lostSeed = r.servers.seed?.lostUpdates?.lost;
  rows.push(`| writes >= the seed, no lost update | ${fmtRatio(w)} of the seed's updates/s; lost: host ${lostHost ?? '-'}, seed ${lostSeed ?? '-'} | ${mark(w === null || lostHost === undefined ? null : w >= 1 && lostHost === 0)} |`);
  const hn = ratio(host('get_courses'), get(r, 'native', 'get_courses'));
  rows.push(`| host/native on \`GET /api/courses\` (reported; under 0.5 asks for a profile) | ${fmtRatio(hn)} | ${hn === null ? 'not measured' : hn >= 0.5 ? 'at or above 0.5' : '**under 0.5**: `make bench-profile` shows where the rest goes (docs/benchmarks.md)'} |`);
  return rows.join('\n');
}

function lostTable(r) {
  const rows = ['| server | how a client updates one course | clients x increments | applied | lost |', '| --- | --- | --- | ---: | ---: |'];
  for (const [name, srv] of Object.entries(r.servers)) {
    const l = srv.lostUpdates;
    if (!l) continue;
    const how = name === 'seed' ? 'GET the whole list, change one course, POST the whole list'
      : `\`GET /api/courses/{id}\`, then \`PATCH\` it${l.replicas > 1 ? ` (client i through replica i mod ${l.replicas})` : ''}`;
    rows.push(`| ${name} | ${how} | ${l.clients} x ${l.incrementsEach} | ${l.applied} | ${l.lost} |`);
  }
  return rows.join('\n');
}

function syncCost(r) {
  const full = get(r, 'native', 'write');
  const normal = get(r, 'native_normal', 'write');
  if (!full || !normal) return 'Not measured (the native baseline did not run).';
  return [
    '| native baseline, PATCH with 8 writers | updates/s | p50 ms | p99 ms |',
    '| --- | ---: | ---: | ---: |',
    `| synchronous=FULL (as the host) | ${fmtInt(full.perS)} | ${fmtMs(full.p50)} | ${fmtMs(full.p99)} |`,
    `| synchronous=NORMAL | ${fmtInt(normal.perS)} | ${fmtMs(normal.p50)} | ${fmtMs(normal.p99)} |`,
    '',
    `FULL runs at ${fmtRatio(full.perS / normal.perS)} of NORMAL's write rate here.`,
  ].join('\n');
}

function coldTable(c) {
  if (!c) return 'Not run.';
  if (c.unavailable) return `Not available: ${c.unavailable}`;
  return [
    '| compiled-component cache | median ms | runs ms |',
    '| --- | ---: | --- |',
    `| cold (\`<data>/cache/\` emptied) | ${c.coldMedianMs?.toFixed(0)} | ${c.coldMs.map((x) => x.toFixed(0)).join(', ')} |`,
    `| warm | ${c.warmMedianMs?.toFixed(0)} | ${c.warmMs.map((x) => x.toFixed(0)).join(', ')} |`,
    '',
    c.cacheFilled ? 'The cache directory was filled by the cold starts.' : 'Note: `<data>/cache/` was empty after the cold starts: the host did not cache compiled components there.',
  ].join('\n');
}

function hotSwapText(h) {
  if (!h) return 'Not run.';
  if (h.unavailable) return `Not available: ${h.unavailable}.`;
  return [
    `${h.swaps} swaps of the API component (each a new version: the same code plus a unique custom section); "serving" means: ${h.servingDetectedBy}.`,
    '',
    '| | figure |',
    '| --- | --- |',
    `| PUT to new version serving, median | ${h.swapMedianMs.toFixed(0)} ms |`,
    `| PUT to new version serving, max | ${h.swapMaxMs.toFixed(0)} ms |`,
    `| the host's own figure (bytes received to serving), per swap | ${(h.hostReportedMs ?? []).join(', ')} ms |`,
    `| upload size | ${fmtInt((h.uploadBytes ?? 0) / 1024)} KiB |`,
    `| ${h.probers} probers on /health, no swap: p50 / p99 / max | ${h.baseline.p50Ms?.toFixed(2)} / ${h.baseline.p99Ms?.toFixed(2)} / ${h.baseline.maxMs?.toFixed(2)} ms (${h.baseline.requests} requests, ${h.baseline.failed} failed) |`,
    `| the same during swaps: p50 / p99 / max | ${h.duringSwaps.p50Ms?.toFixed(2)} / ${h.duringSwaps.p99Ms?.toFixed(2)} / ${h.duringSwaps.maxMs?.toFixed(2)} ms (${h.duringSwaps.requests} requests, ${h.duringSwaps.failed} failed) |`,
  ].join('\n');
}

function criterionText(c) {
  if (!c || c.unavailable) return `Not available: ${c?.unavailable ?? 'not run'}.`;
  const rows = ['| bench | mean | 95% interval |', '| --- | ---: | --- |'];
  const us = (ns) => `${(ns / 1000).toFixed(1)} us`;
  for (const b of c.benches) rows.push(`| ${b.id} | ${us(b.meanNs)} | ${us(b.lowNs)} - ${us(b.highNs)} |`);
  return rows.join('\n');
}

export function renderReport(r) {
  const m = r.machine;
  const s = r.settings;
  return `# SkillTrack benchmark report

Run ${r.startedAt} - ${r.finishedAt}. Machine: ${m.cores} cores (${m.cpuModel}), ${m.memoryGiB} GiB, Linux ${m.kernel}; load average ${m.loadAverageAtStart.map((x) => x.toFixed(2)).join(' ')} at start, ${m.loadAverageAtEnd.map((x) => x.toFixed(2)).join(' ')} at the end. The load generator (wrk) runs on the same cores as the server.
Spin: ${s.spin ?? 'not found (its runs are skipped)'}.
Load: ${s.courses} courses; reads ${s.readLoad.connections} connections on ${s.readLoad.threads} wrk threads, writes ${s.writeLoad.connections} writers; ${s.seconds} s measured after ${s.warmupSeconds} s warm-up per scenario${s.pgSeconds !== undefined && s.pgSeconds !== s.seconds ? ` (host-pg and host-pg x3: ${s.pgSeconds} s measured)` : ''}${s.quick ? ' (quick run: figures are indicative only)' : ''}. Peak RSS is the server process's VmHWM over the measured seconds.

## Summary

${summaryTable(r)}

## Targets

${targetsTable(r)}

## Lost updates (concurrent clients, each incrementing a different course)

${lostTable(r)}

## PostgreSQL mode (host-pg, host-pg x3) against host on SQLite

${pgSection(r)}

## What synchronous=FULL costs

${syncCost(r)}

## Cold start (process start to first 200 on /health)

${coldTable(r.coldStart)}

## Hot swap

${hotSwapText(r.hotSwap)}

## Per-request overhead (criterion, \`host/benches/request_path.rs\`)

${criterionText(r.criterion)}

## Every run

${detailTable(r)}
`;
}
