import { createRoot } from 'react-dom/client';
import { fetchAuthState, type AuthState } from './auth/api';
import { rememberAuth, rememberedAuth } from './auth/device';
import { Root } from './app/Root';
import { applyTheme, chosenTheme, systemTheme } from './app/theme';
import { currentBuild, noteBuild } from './app/update';
import { memoryTokens, Transport } from './sync/transport';
import './styles.css';

/**
 * Accounts or not, and who is signed in. With the server down, what this device saw
 * last: the same person's copy then opens as it would have.
 */
async function authState(): Promise<AuthState> {
  const remembered = rememberedAuth();
  try {
    const state = await fetchAuthState(new Transport('', memoryTokens()));
    rememberAuth(state);
    return state;
  } catch {
    return { mode: remembered?.mode ?? 'none', setupRequired: false, account: remembered?.account ?? null };
  }
}

async function boot() {
  applyTheme(chosenTheme() ?? systemTheme());
  // Who was here last (before this start's answer replaces it): their kept edits wait for them.
  const remembered = rememberedAuth()?.account ?? null;
  const state = await authState();

  // Decided once per start, outside React (StrictMode runs initialisers twice).
  let storage: Storage | undefined;
  try {
    storage = window.localStorage;
  } catch {
    storage = undefined;
  }
  const updated = noteBuild(currentBuild(), storage);

  createRoot(document.getElementById('root')!).render(<Root initial={state} remembered={remembered} updated={updated} />);

  // The app shell is kept by a service worker so a reload works with the server down.
  // Registering also checks sw.js for a new version, bypassing the HTTP cache, so the
  // launch after a deployment installs it (pwa/sw.js).
  if (import.meta.env.PROD && 'serviceWorker' in navigator) {
    navigator.serviceWorker.register('/sw.js', { updateViaCache: 'none' }).catch(() => {
      /* without it the app still works; it just needs the server to load */
    });
  }
}

void boot();
