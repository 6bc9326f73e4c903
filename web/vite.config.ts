import { readFileSync } from 'node:fs';
import { defineConfig } from 'vitest/config';
import react from '@vitejs/plugin-react';
import { pwa } from './pwa/plugin';

// The static component serves dist/ under a strict CSP (no inline script or style),
// so nothing may be inlined into index.html and every asset keeps a hashed name.
// The version the app shows (Data page): the package's, unless a release or a test
// build names another.
const pkg = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as { version: string };
const version = process.env.SKILLTRACK_VERSION_LABEL || pkg.version;

export default defineConfig({
  define: { __APP_VERSION__: JSON.stringify(version) },
  // pwa(): icons, manifest and the stamped service worker, in production builds only.
  plugins: [react(), pwa()],
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
    target: 'es2020',
  },
  server: {
    proxy: {
      '/api': 'http://127.0.0.1:3000',
      '/health': 'http://127.0.0.1:3000',
    },
  },
  test: {
    include: ['src/**/*.test.ts', 'src/**/*.test.tsx'],
    environment: 'node',
  },
});
