// What makes the production build an installable app: the icons, rendered with sharp
// from the one SVG source; the web app manifest listing them; the service worker
// stamped with the build's id; and the tags index.html needs for them. Nothing here
// is kept in the repository: every file is written into the build output.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import type { Plugin } from 'vite';

const SOURCE_SVG = new URL('../src/assets/favicon.svg', import.meta.url);
const SW_SOURCE = new URL('./sw.js', import.meta.url);

/** The page background of each theme (src/styles.css, --bg): the title bar and splash screen match the app. */
export const THEME_COLOURS = { dark: '#0b1120', light: '#f1f5f9' };
/** The SVG's own tile colour: the canvas behind the full-bleed icons. */
const TILE = '#4f46e5';
/**
 * Maskable icons may be cropped to any shape inside the central circle of 80% of their
 * width (the safe zone), so the glyph is drawn at 80% on a full-bleed tile: the check
 * mark then sits well inside the circle. iOS fills transparency with black, so its
 * touch icon is full-bleed as well (it rounds the corners itself).
 */
const SAFE_ZONE = 0.8;

interface IconSpec {
  key: string;
  size: number;
  /** The manifest's purpose; null for the touch icon, which index.html links. */
  purpose: 'any' | 'maskable' | null;
  bleed: boolean;
}

export const ICONS: IconSpec[] = [
  { key: 'icon-192', size: 192, purpose: 'any', bleed: false },
  { key: 'icon-512', size: 512, purpose: 'any', bleed: false },
  { key: 'icon-maskable-192', size: 192, purpose: 'maskable', bleed: true },
  { key: 'icon-maskable-512', size: 512, purpose: 'maskable', bleed: true },
  { key: 'apple-touch-icon', size: 180, purpose: null, bleed: true },
];

function hash(bytes: string | Uint8Array, length: number): string {
  return createHash('sha256').update(bytes).digest('hex').slice(0, length);
}

/** The SVG rasterised at `size` pixels: its density set so no bitmap is scaled up. */
function rasterise(svg: Buffer, size: number) {
  const { width } = svgViewBox(svg);
  return sharp(svg, { density: (72 * size) / width }).resize(size, size).png();
}

function svgViewBox(svg: Buffer): { width: number; height: number } {
  const m = /viewBox="\s*[-\d.]+\s+[-\d.]+\s+([\d.]+)\s+([\d.]+)\s*"/.exec(svg.toString('utf8'));
  if (!m) throw new Error('pwa: the icon SVG needs a viewBox');
  return { width: Number(m[1]), height: Number(m[2]) };
}

export async function renderIcon(svg: Buffer, { size, bleed }: IconSpec): Promise<Buffer> {
  if (!bleed) return rasterise(svg, size).toBuffer();
  const inner = Math.round(size * SAFE_ZONE);
  const glyph = await rasterise(svg, inner).toBuffer();
  return sharp({ create: { width: size, height: size, channels: 4, background: TILE } })
    .composite([{ input: glyph, gravity: 'centre' }])
    .png()
    .toBuffer();
}

function manifest(icons: (IconSpec & { fileName: string })[]) {
  return {
    id: '/',
    name: 'SkillTrack',
    short_name: 'SkillTrack',
    description: 'Track your online courses on every device: progress, deadlines, goals.',
    start_url: '/',
    scope: '/',
    display: 'standalone',
    // One pair only in a manifest: the dark theme's, the app's own look. The page's
    // theme-color metas (one per colour scheme, updated when the person picks a theme)
    // take over once it has loaded.
    theme_color: THEME_COLOURS.dark,
    background_color: THEME_COLOURS.dark,
    categories: ['education', 'productivity'],
    icons: icons
      .filter((i) => i.purpose)
      .map((i) => ({ src: `/${i.fileName}`, sizes: `${i.size}x${i.size}`, type: 'image/png', purpose: i.purpose })),
  };
}

/** A vite plugin for the production build. */
export function pwa(): Plugin {
  return {
    name: 'skilltrack-pwa',
    apply: 'build',
    generateBundle: {
      // After vite has written index.html into the bundle.
      order: 'post',
      async handler(_options, bundle) {
        const html = bundle['index.html'];
        if (!html || html.type !== 'asset') return this.error('pwa: no index.html in the bundle');

        const svg = readFileSync(SOURCE_SVG);
        const icons: (IconSpec & { fileName: string })[] = [];
        for (const icon of ICONS) {
          const png = await renderIcon(svg, icon);
          // Content-hashed names under assets/: served as immutable, like vite's own.
          const fileName = `assets/${icon.key}-${hash(png, 8)}.png`;
          this.emitFile({ type: 'asset', fileName, source: png });
          icons.push({ ...icon, fileName });
        }
        // A fixed name (it is linked from every installed copy), revalidated on use.
        this.emitFile({ type: 'asset', fileName: 'manifest.webmanifest', source: JSON.stringify(manifest(icons), null, 2) + '\n' });

        // The build's id: everything it ships except the two files that carry it.
        const parts = Object.values(bundle)
          .filter((f) => f.fileName !== 'index.html' && f.fileName !== 'sw.js')
          .sort((a, b) => a.fileName.localeCompare(b.fileName))
          .map((f) => `${f.fileName}\0${hash(f.type === 'chunk' ? f.code : f.source, 64)}`);
        const build = hash(parts.join('\n'), 12);

        const apple = icons.find((i) => i.key === 'apple-touch-icon');
        if (!apple) return this.error('pwa: no apple-touch-icon');
        const tags = [
          `<meta name="skilltrack-build" content="${build}" />`,
          `<link rel="manifest" href="/manifest.webmanifest" />`,
          `<link rel="apple-touch-icon" href="/${apple.fileName}" />`,
          `<meta name="theme-color" media="(prefers-color-scheme: dark)" content="${THEME_COLOURS.dark}" />`,
          `<meta name="theme-color" media="(prefers-color-scheme: light)" content="${THEME_COLOURS.light}" />`,
        ];
        const source = String(html.source);
        if (!source.includes('</head>')) this.error('pwa: index.html has no </head>');
        html.source = source.replace('</head>', `  ${tags.join('\n    ')}\n  </head>`);

        const sw = readFileSync(SW_SOURCE, 'utf8');
        if (!sw.includes('__SKILLTRACK_BUILD__')) this.error('pwa: sw.js lost its build placeholder');
        this.emitFile({ type: 'asset', fileName: 'sw.js', source: sw.replace('__SKILLTRACK_BUILD__', build) });
      },
    },
  };
}
