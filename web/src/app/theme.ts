import { useCallback, useEffect, useState } from 'react';

export type Theme = 'dark' | 'light';

// Only a theme the person picked is stored. The key is new: the old one
// ('skilltrack_theme') was written on every start, so a stored 'dark' there says
// nothing about a choice; only 'light' could have come from the toggle.
const KEY = 'skilltrack_theme_choice';
const OLD_KEY = 'skilltrack_theme';
const LIGHT_QUERY = '(prefers-color-scheme: light)';

export function chosenTheme(): Theme | null {
  try {
    const t = localStorage.getItem(KEY);
    if (t === 'dark' || t === 'light') return t;
    const old = localStorage.getItem(OLD_KEY);
    if (old !== null) {
      localStorage.removeItem(OLD_KEY);
      if (old === 'light') {
        localStorage.setItem(KEY, old);
        return old;
      }
    }
  } catch {
    /* no storage: nothing was chosen */
  }
  return null;
}

export function systemTheme(): Theme {
  return window.matchMedia?.(LIGHT_QUERY).matches ? 'light' : 'dark';
}

export function applyTheme(t: Theme): void {
  const root = document.documentElement;
  root.dataset.theme = t;
  // The browser's (and an installed app's) title bar follows the theme shown, which
  // may differ from the system's: both theme-color metas take its background.
  const background = getComputedStyle(root).getPropertyValue('--bg').trim();
  if (!background) return;
  for (const meta of document.querySelectorAll<HTMLMetaElement>('meta[name="theme-color"]')) meta.content = background;
}

function rememberTheme(t: Theme): void {
  try {
    localStorage.setItem(KEY, t);
  } catch {
    /* kept for this page only */
  }
}

/** The theme shown: the person's choice once made, the system's until then (and as it changes). */
export function useTheme(): [Theme, (t: Theme) => void] {
  const [chosen, setChosen] = useState<Theme | null>(chosenTheme);
  const [system, setSystem] = useState<Theme>(systemTheme);

  useEffect(() => {
    const mq = window.matchMedia?.(LIGHT_QUERY);
    if (!mq) return;
    const onChange = () => setSystem(mq.matches ? 'light' : 'dark');
    mq.addEventListener('change', onChange);
    return () => mq.removeEventListener('change', onChange);
  }, []);

  const theme = chosen ?? system;
  useEffect(() => applyTheme(theme), [theme]);

  const choose = useCallback((t: Theme) => {
    rememberTheme(t);
    setChosen(t);
  }, []);
  return [theme, choose];
}
