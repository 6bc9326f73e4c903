// SkillTrack's service worker: keeps the app shell (index.html and the hashed assets)
// so the app starts with the server down. The API is never cached here: the data
// lives in IndexedDB and the sync engine decides what is fresh.
//
// The build stamps its id below (pwa/plugin.ts), so every new version of the app is
// a new worker script: the browser installs it on the next launch, it fills a cache
// of its own and, once active, deletes every older one.
const BUILD = '__SKILLTRACK_BUILD__';
const PREFIX = 'skilltrack-shell-';
const SHELL = PREFIX + BUILD;

// Installing fetches index.html and what it references, so the shell is complete even
// though the first page load happened before this worker existed. Any failure fails
// the install: the previous worker and its cache then stay in charge.
self.addEventListener('install', (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(SHELL);
      const res = await fetch('/', { cache: 'no-cache' });
      if (!res.ok) throw new Error(`app shell: HTTP ${res.status}`);
      const html = await res.clone().text();
      const assets = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]);
      await cache.addAll(assets);
      await cache.put('/', res);
      // A new version takes over at once: pages load index.html from the network
      // first, so an open page already runs the version this worker keeps.
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith(PREFIX) && k !== SHELL).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('fetch', (event) => {
  const req = event.request;
  const url = new URL(req.url);
  if (req.method !== 'GET' || url.origin !== self.location.origin) return;
  if (url.pathname.startsWith('/api/') || url.pathname === '/health') return;

  if (url.pathname.startsWith('/assets/')) {
    // Hashed names never change content: cache first.
    event.respondWith(
      caches.match(req).then(
        (hit) =>
          hit ||
          fetch(req).then((res) => {
            if (res.ok) {
              const copy = res.clone();
              caches.open(SHELL).then((c) => c.put(req, copy));
            }
            return res;
          }),
      ),
    );
    return;
  }

  if (req.mode === 'navigate') {
    // The newest index.html when the server answers, the kept one when it does not.
    event.respondWith(
      fetch(req)
        .then((res) => {
          if (res.ok) {
            const copy = res.clone();
            caches.open(SHELL).then((c) => c.put('/', copy));
          }
          return res;
        })
        .catch(() => caches.match('/').then((hit) => hit || Response.error())),
    );
  }
});
