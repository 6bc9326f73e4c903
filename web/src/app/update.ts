// Which build of the app is running, and whether this device last ran another one:
// the service worker replaces the app shell on the launch after a deployment, and
// the person is told once that the app changed.

const KEY = 'skilltrack_build';

/** The build id the production build stamps into index.html (pwa/plugin.ts); null in development. */
export function currentBuild(doc: Document = document): string | null {
  return doc.querySelector<HTMLMetaElement>('meta[name="skilltrack-build"]')?.content || null;
}

/**
 * Remembers `build` as the one this device runs, and answers whether a different one
 * ran here before: true once after each update, false on the very first start (there
 * was nothing to update) and when storage is unavailable (nothing can be compared).
 */
export function noteBuild(build: string | null, storage: Pick<Storage, 'getItem' | 'setItem'> | undefined): boolean {
  if (!build || !storage) return false;
  try {
    const previous = storage.getItem(KEY);
    if (previous !== build) storage.setItem(KEY, build);
    return previous !== null && previous !== build;
  } catch {
    return false;
  }
}
