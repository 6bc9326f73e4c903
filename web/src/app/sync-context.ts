import { createContext, useContext, useSyncExternalStore } from 'react';
import type { SyncEngine, SyncSnapshot } from '../sync/engine';

export const EngineContext = createContext<SyncEngine | null>(null);

export function useEngine(): SyncEngine {
  const e = useContext(EngineContext);
  if (!e) throw new Error('EngineContext missing');
  return e;
}

export function useSync(): SyncSnapshot {
  const engine = useEngine();
  return useSyncExternalStore(engine.subscribe.bind(engine), engine.getSnapshot);
}
