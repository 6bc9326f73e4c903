export type Theme = 'dark' | 'light';
const KEY = 'skilltrack_theme';

export function loadTheme(): Theme {
  try {
    const t = localStorage.getItem(KEY);
    if (t === 'dark' || t === 'light') return t;
  } catch {
    /* no storage: fall through to the default */
  }
  return 'dark';
}

export function applyTheme(t: Theme): void {
  document.documentElement.dataset.theme = t;
  try {
    localStorage.setItem(KEY, t);
  } catch {
    /* remembered for this page only */
  }
}
