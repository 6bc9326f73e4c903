// A minimal HTTP client over node:http with keep-alive and no automatic
// decompression, so the benchmark sees exactly what the server sent.
import http from 'node:http';

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

/** One request; resolves to { status, headers, body: Buffer, ms }. */
export function request(url, { method = 'GET', headers = {}, body, timeoutMs = 30000, fresh = false } = {}) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const payload = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(body);
    const req = http.request(url, {
      method,
      headers: payload ? { 'content-length': payload.length, ...headers } : headers,
      agent: fresh ? false : agent,
      timeout: timeoutMs,
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({
        status: res.statusCode,
        headers: res.headers,
        body: Buffer.concat(chunks),
        ms: performance.now() - started,
      }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${url}: timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
    if (payload) req.write(payload);
    req.end();
  });
}

export async function json(url, options = {}) {
  const res = await request(url, options);
  let value = null;
  try { value = JSON.parse(res.body.toString('utf8')); } catch { /* not JSON */ }
  return { ...res, json: value };
}

export function sendJson(url, method, value, headers = {}) {
  return json(url, { method, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(value) });
}

export function closeIdle() {
  agent.destroy();
}
