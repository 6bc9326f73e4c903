import { useCallback, useEffect, useId, useState, type FormEvent } from 'react';
import { useUi } from '../app/ui-context';
import { changePassword, createToken, listTokens, revokeToken, setSharing, type ApiToken, type NewApiToken } from './api';
import { useSignedIn } from './session-context';
import { ErrorLine, useRequest } from './useRequest';
import { when } from './when';

function ChangePassword() {
  const { transport, account } = useSignedIn();
  const ui = useUi();
  const id = useId();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [again, setAgain] = useState('');
  const { busy, error, setError, run } = useRequest();

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (new TextEncoder().encode(next).length < 8) return setError('Use at least 8 characters for the new password.');
    if (next !== again) return setError('The two new passwords differ.');
    const done = await run(() => changePassword(transport, current, next).then(() => true));
    if (done) {
      setCurrent('');
      setNext('');
      setAgain('');
      ui.toast('Password changed; your other sessions were signed out');
    }
  };
  return (
    <section className="card panel" aria-labelledby={`${id}-h`}>
      <h2 id={`${id}-h`}>Change password</h2>
      <form className="auth-form" onSubmit={(e) => void submit(e)} noValidate>
        <input type="text" name="username" autoComplete="username" hidden readOnly value={account.username} />
        <div className="field">
          <label htmlFor={`${id}-cur`}>Current password</label>
          <input id={`${id}-cur`} type="password" autoComplete="current-password" value={current} onChange={(e) => setCurrent(e.target.value)} />
        </div>
        <div className="row2">
          <div className="field">
            <label htmlFor={`${id}-new`}>New password</label>
            <input id={`${id}-new`} type="password" autoComplete="new-password" value={next} onChange={(e) => setNext(e.target.value)} />
          </div>
          <div className="field">
            <label htmlFor={`${id}-again`}>Confirm new password</label>
            <input id={`${id}-again`} type="password" autoComplete="new-password" value={again} onChange={(e) => setAgain(e.target.value)} />
          </div>
        </div>
        <ErrorLine error={error} />
        <div>
          <button type="submit" className="btn primary" disabled={busy || !current || !next}>
            Change password
          </button>
        </div>
      </form>
    </section>
  );
}

function ShareProgress() {
  const { account, transport, update } = useSignedIn();
  const { busy, error, run } = useRequest();
  // Shown at once; put back if the server refuses.
  const [share, setShare] = useState(account.shareProgress);
  useEffect(() => setShare(account.shareProgress), [account.shareProgress]);
  const id = useId();
  const toggle = async (next: boolean) => {
    setShare(next);
    const done = await run(async () => {
      update(await setSharing(transport, next));
      return true;
    });
    if (!done) setShare(!next);
  };
  return (
    <section className="card panel" aria-labelledby={`${id}-h`}>
      <h2 id={`${id}-h`}>Team page</h2>
      <label className="toggle">
        <input type="checkbox" checked={share} disabled={busy} onChange={(e) => void toggle(e.target.checked)} /> Share my progress with the
        team
      </label>
      <p className="muted">
        Your monthly goal, what you completed this month and this year, and the titles and progress of the courses you are studying. Never
        your notes. Turning it off hides you from the team page at once.
      </p>
      <ErrorLine error={error} />
    </section>
  );
}

function ApiTokens() {
  const { transport } = useSignedIn();
  const ui = useUi();
  const id = useId();
  const [tokens, setTokens] = useState<ApiToken[] | null>(null);
  const [name, setName] = useState('');
  const [created, setCreated] = useState<NewApiToken | null>(null);
  const { busy, error, setError, run } = useRequest();

  const refresh = useCallback(() => run(async () => setTokens(await listTokens(transport))), [run, transport]);
  useEffect(() => {
    void refresh();
  }, [refresh]);

  const create = async (e: FormEvent) => {
    e.preventDefault();
    if (!name.trim()) return setError('Give the token a name, such as the script that uses it.');
    const t = await run(() => createToken(transport, name.trim()));
    if (t) {
      setCreated(t);
      setName('');
      await refresh();
    }
  };
  const revoke = async (t: ApiToken) => {
    const ok = await ui.confirm({
      title: `Revoke “${t.name}”?`,
      message: 'Scripts using this token stop working at once.',
      confirmLabel: 'Revoke',
    });
    if (!ok) return;
    await run(async () => {
      await revokeToken(transport, t.id);
      if (created?.id === t.id) setCreated(null);
      await refresh();
      ui.toast(`Token “${t.name}” revoked`);
    });
  };
  const copy = async (text: string) => {
    try {
      await navigator.clipboard.writeText(text);
      ui.toast('Token copied');
    } catch {
      ui.toast('Select the token and copy it');
    }
  };

  return (
    <section className="card panel" aria-labelledby={`${id}-h`} data-testid="api-tokens">
      <h2 id={`${id}-h`}>Personal API tokens</h2>
      <p className="muted">
        For scripts: send <code>Authorization: Bearer &lt;token&gt;</code>. A token acts as you; revoke the ones you no longer use.
      </p>
      <form className="inline-form" onSubmit={(e) => void create(e)}>
        <div className="field">
          <label htmlFor={`${id}-name`}>Token name</label>
          <input id={`${id}-name`} value={name} maxLength={100} onChange={(e) => setName(e.target.value)} placeholder="e.g. backup script" />
        </div>
        <button type="submit" className="btn primary" disabled={busy}>
          Create token
        </button>
      </form>
      {created && (
        <div className="feed-link new-secret" role="status">
          <label htmlFor={`${id}-secret`}>New token “{created.name}”: copy it now, it is not shown again</label>
          <div className="copy-row">
            <input id={`${id}-secret`} readOnly value={created.token} onFocus={(e) => e.target.select()} data-testid="new-token" />
            <button type="button" className="btn" onClick={() => void copy(created.token)}>
              Copy
            </button>
            <button type="button" className="btn" onClick={() => setCreated(null)}>
              Done
            </button>
          </div>
        </div>
      )}
      <ErrorLine error={error} />
      {tokens && tokens.length === 0 && <p className="muted">No tokens yet.</p>}
      {tokens && tokens.length > 0 && (
        <ul className="plain-list item-list" aria-label="Your tokens">
          {tokens.map((t) => (
            <li key={t.id}>
              <span>
                <strong>{t.name}</strong>
                <span className="muted item-meta">
                  made {when(t.createdAt)} · last used {when(t.lastUsedAt)}
                </span>
              </span>
              <button type="button" className="btn" onClick={() => void revoke(t)} aria-label={`Revoke token ${t.name}`}>
                Revoke
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function Sessions() {
  const { signOut } = useSignedIn();
  const ui = useUi();
  const { busy, error, run } = useRequest();
  const id = useId();
  const everywhere = async () => {
    const ok = await ui.confirm({
      title: 'Sign out everywhere?',
      message: 'Every device and browser signed in to your account is signed out, this one too, and this device’s copy of your library is removed. Edits not yet saved to the server are lost.',
      confirmLabel: 'Sign out everywhere',
    });
    if (ok) await run(() => signOut(true));
  };
  return (
    <section className="card panel" aria-labelledby={`${id}-h`}>
      <h2 id={`${id}-h`}>Sessions</h2>
      <p className="muted">Lost a phone, or signed in on a shared computer? End every session of your account.</p>
      <ErrorLine error={error} />
      <button type="button" className="btn danger" disabled={busy} onClick={() => void everywhere()}>
        Sign out everywhere
      </button>
    </section>
  );
}

/** `#/account`: the signed-in person's own settings. */
export function AccountPage() {
  const { account } = useSignedIn();
  return (
    <div className="account-view">
      <div className="view-head">
        <div>
          <h1>Your account</h1>
          <p className="sub">
            Signed in as <strong data-testid="account-username">{account.username}</strong>
            {account.isAdmin ? ' (administrator)' : ''}
          </p>
        </div>
      </div>
      <div className="stack">
        <ShareProgress />
        <ChangePassword />
        <ApiTokens />
        <Sessions />
      </div>
    </div>
  );
}
