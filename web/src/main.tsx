import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app/App';
import { EngineContext } from './app/sync-context';
import { applyTheme, chosenTheme, systemTheme } from './app/theme';
import { currentBuild, noteBuild } from './app/update';
import { SyncEngine } from './sync/engine';
import { migrateOldData } from './sync/migration';
import { openLocalStore } from './sync/store';
import { Transport, localStorageTokens } from './sync/transport';
import './styles.css';

async function boot() {
  applyTheme(chosenTheme() ?? systemTheme());
  const store = await openLocalStore();
  const engine = new SyncEngine(store, new Transport('', localStorageTokens()), { autoPull: true });
  await engine.load();

  // Decided once per start, outside React (StrictMode runs initialisers twice).
  let storage: Storage | undefined;
  try {
    storage = window.localStorage;
  } catch {
    storage = undefined;
  }
  const updated = noteBuild(currentBuild(), storage);

  createRoot(document.getElementById('root')!).render(
    <StrictMode>
      <EngineContext.Provider value={engine}>
        <App updated={updated} />
      </EngineContext.Provider>
    </StrictMode>,
  );

  // The old app's localStorage data moves over once the server has answered.
  const unsubscribe = engine.subscribe(() => {
    if (!engine.getSnapshot().reachedServer) return;
    unsubscribe();
    void migrateOldData(engine, localStorage);
  });
  engine.start();

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
