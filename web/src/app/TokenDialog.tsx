import { useState } from 'react';
import { Dialog } from '../ui/Dialog';
import { useEngine, useSync } from './sync-context';

/** Shown when the API answers 401: asks once, then the token is kept on this device. */
export function TokenDialog() {
  const { state } = useSync();
  const engine = useEngine();
  const [token, setToken] = useState('');
  const [dismissed, setDismissed] = useState(false);
  return (
    <Dialog open={state === 'auth' && !dismissed} onClose={() => setDismissed(true)} title="Access token needed">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (token.trim()) engine.setToken(token);
        }}
      >
        <p>This SkillTrack server requires an access token. Your edits are kept on this device until it is given.</p>
        <div className="field">
          <label htmlFor="api-token">Token</label>
          <input id="api-token" type="password" autoComplete="current-password" value={token} onChange={(e) => setToken(e.target.value)} autoFocus />
        </div>
        <div className="dialog-actions">
          <button type="button" className="btn" onClick={() => setDismissed(true)}>
            Later
          </button>
          <button type="submit" className="btn primary">
            Save token
          </button>
        </div>
      </form>
    </Dialog>
  );
}
