import { Icon } from '../ui/Icon';
import type { SyncSnapshot } from '../sync/engine';
import { useEngine, useSync } from './sync-context';

/** The full wording, and the one a phone's top bar has room for. */
function labels(s: SyncSnapshot): { full: string; short: string } {
  switch (s.state) {
    case 'synced':
      return { full: 'Synced', short: 'Synced' };
    case 'saving': {
      const text = s.pending > 0 ? `Saving ${s.pending}…` : 'Saving…';
      return { full: text, short: text };
    }
    case 'offline':
      return s.pending > 0 ? { full: `Offline · ${s.pending} pending`, short: `Offline · ${s.pending}` } : { full: 'Offline', short: 'Offline' };
    case 'auth':
      return { full: 'Sign-in needed', short: 'Signed out' };
    default:
      return { full: 'Sync error', short: 'Error' };
  }
}

export function SyncIndicator() {
  const s = useSync();
  const engine = useEngine();
  const { full, short } = labels(s);
  return (
    <div
      className={`sync sync-${s.state}`}
      data-testid="sync-indicator"
      data-state={s.state}
      data-pending={s.pending}
      title={s.error ? `${full}: ${s.error}` : full}
    >
      <span className="sync-dot" aria-hidden="true" />
      {/* Screen readers always get the full wording; the short one is only what fits on a phone. */}
      <span className="sync-text" role="status" aria-live="polite">
        <span className="hide-xs">{full}</span>
        <span className="sync-short" aria-hidden="true">
          {short}
        </span>
      </span>
      {(s.state === 'error' || s.state === 'offline') && (
        <button type="button" className="link-btn sync-retry" onClick={() => void engine.retry()}>
          <Icon name="retry" size={14} />
          <span className="hide-xs">Retry</span>
        </button>
      )}
    </div>
  );
}
