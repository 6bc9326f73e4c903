import { useEngine, useSync } from './sync-context';

export function SyncIndicator() {
  const s = useSync();
  const engine = useEngine();
  let text: string;
  switch (s.state) {
    case 'synced':
      text = 'Synced';
      break;
    case 'saving':
      text = s.pending > 0 ? `Saving ${s.pending}…` : 'Saving…';
      break;
    case 'offline':
      text = s.pending > 0 ? `Offline · ${s.pending} pending` : 'Offline';
      break;
    case 'auth':
      text = 'Sign-in needed';
      break;
    default:
      text = 'Sync error';
  }
  return (
    <div className={`sync sync-${s.state}`} data-testid="sync-indicator" data-state={s.state} data-pending={s.pending}>
      <span className="sync-dot" aria-hidden="true" />
      <span role="status" aria-live="polite" title={s.error ?? undefined}>
        {text}
      </span>
      {(s.state === 'error' || s.state === 'offline') && (
        <button type="button" className="link-btn" onClick={() => void engine.retry()}>
          Retry
        </button>
      )}
    </div>
  );
}
