import { useCallback, useEffect, useId, useState, type FormEvent } from 'react';
import { useUi } from '../app/ui-context';
import { Dialog } from '../ui/Dialog';
import {
  createInvite,
  downloadAccountExport,
  inviteLink,
  listAccounts,
  listInvites,
  removeAccount,
  revokeInvite,
  setDisabled,
  type AdminAccount,
  type Invite,
} from './api';
import { useSignedIn } from './session-context';
import { ErrorLine, useRequest } from './useRequest';
import { when } from './when';

/** Removing someone: offers their export first and asks for their username typed out. */
function RemoveAccountDialog({ target, onClose, onRemoved }: { target: AdminAccount | null; onClose: () => void; onRemoved: () => void }) {
  const { transport } = useSignedIn();
  const id = useId();
  const [typed, setTyped] = useState('');
  const { busy, error, setError, run } = useRequest();
  useEffect(() => {
    setTyped('');
    setError(null);
  }, [target, setError]);
  if (!target) return null;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (typed.trim().toLowerCase() !== target.username) return setError(`Type ${target.username} to confirm.`);
    const done = await run(() => removeAccount(transport, target.id, target.username).then(() => true));
    if (done) onRemoved();
  };
  return (
    <Dialog open onClose={onClose} title={`Remove ${target.username}?`} className="confirm">
      <form onSubmit={(e) => void submit(e)}>
        <p>
          This deletes the account <strong>{target.username}</strong> and all its data: {target.courses} course{target.courses === 1 ? '' : 's'},
          settings, tokens and history. It cannot be undone.
        </p>
        <p>
          <button type="button" className="btn" disabled={busy} onClick={() => void run(() => downloadAccountExport(transport, target))}>
            Download their export first
          </button>
        </p>
        <div className="field">
          <label htmlFor={`${id}-confirm`}>Type {target.username} to confirm</label>
          <input id={`${id}-confirm`} autoComplete="off" autoCapitalize="none" spellCheck={false} value={typed} onChange={(e) => setTyped(e.target.value)} />
        </div>
        <ErrorLine error={error} />
        <div className="dialog-actions">
          <button type="button" className="btn" onClick={onClose} autoFocus>
            Cancel
          </button>
          <button type="submit" className="btn danger" disabled={busy || typed.trim().toLowerCase() !== target.username}>
            Remove account
          </button>
        </div>
      </form>
    </Dialog>
  );
}

function AccountsPanel({ accounts, refresh }: { accounts: AdminAccount[] | null; refresh: () => Promise<unknown> }) {
  const { transport, account: me } = useSignedIn();
  const ui = useUi();
  const { busy, error, run } = useRequest();
  const [removing, setRemoving] = useState<AdminAccount | null>(null);
  const id = useId();

  const toggle = async (a: AdminAccount) => {
    if (!a.disabled) {
      const ok = await ui.confirm({
        title: `Disable ${a.username}?`,
        message: 'They are signed out everywhere and their API tokens stop working until you enable the account again. Their data stays.',
        confirmLabel: 'Disable',
      });
      if (!ok) return;
    }
    await run(async () => {
      await setDisabled(transport, a.id, !a.disabled);
      await refresh();
      ui.toast(`${a.username} ${a.disabled ? 'enabled' : 'disabled'}`);
    });
  };

  return (
    <section className="card panel" aria-labelledby={`${id}-h`}>
      <h2 id={`${id}-h`}>Accounts</h2>
      <ErrorLine error={error} />
      {accounts && (
        <ul className="plain-list item-list" aria-label="Accounts" data-testid="accounts-list">
          {accounts.map((a) => (
            <li key={a.id} data-testid="account-row" data-username={a.username}>
              <span>
                <strong>{a.username}</strong>
                {a.isAdmin && <span className="badge badge-progress">admin</span>}
                <span className={`badge ${a.disabled ? 'badge-pending' : 'badge-done'}`} data-testid="account-status">
                  {a.disabled ? 'disabled' : 'active'}
                </span>
                <span className="muted item-meta">
                  {a.courses} course{a.courses === 1 ? '' : 's'} · last seen {when(a.lastSeenAt)} · {a.shareProgress ? 'shares progress' : 'private'}
                </span>
              </span>
              {a.id !== me.id && (
                <span className="item-actions">
                  <button type="button" className="btn" disabled={busy} onClick={() => void toggle(a)} aria-label={`${a.disabled ? 'Enable' : 'Disable'} ${a.username}`}>
                    {a.disabled ? 'Enable' : 'Disable'}
                  </button>
                  <button type="button" className="btn danger" disabled={busy} onClick={() => setRemoving(a)} aria-label={`Remove ${a.username}`}>
                    Remove
                  </button>
                </span>
              )}
            </li>
          ))}
        </ul>
      )}
      <RemoveAccountDialog
        target={removing}
        onClose={() => setRemoving(null)}
        onRemoved={() => {
          const name = removing?.username;
          setRemoving(null);
          void refresh();
          ui.toast(`${name} removed`);
        }}
      />
    </section>
  );
}

function InvitesPanel() {
  const { transport } = useSignedIn();
  const ui = useUi();
  const id = useId();
  const [invites, setInvites] = useState<Invite[] | null>(null);
  const [link, setLink] = useState<string | null>(null);
  const [hours, setHours] = useState(72);
  const { busy, error, run } = useRequest();
  const refresh = useCallback(() => run(async () => setInvites(await listInvites(transport))), [run, transport]);
  useEffect(() => {
    void refresh();
  }, [refresh]);

  const create = async () => {
    setLink(null);
    const inv = await run(() => createInvite(transport, hours));
    if (inv) {
      setLink(inviteLink(location.origin, inv));
      await refresh();
    }
  };
  const revoke = async (inv: Invite) => {
    await run(async () => {
      await revokeInvite(transport, inv.id);
      await refresh();
      ui.toast('Invite revoked');
    });
  };
  const copy = async () => {
    if (!link) return;
    try {
      await navigator.clipboard.writeText(link);
      ui.toast('Invite link copied');
    } catch {
      ui.toast('Select the link and copy it');
    }
  };

  return (
    <section className="card panel" aria-labelledby={`${id}-h`}>
      <h2 id={`${id}-h`}>Invite someone</h2>
      <p className="muted">An invite link makes one account. Send it to the person privately; it stops working once used or when it expires.</p>
      <div className="inline-form">
        <div className="field">
          <label htmlFor={`${id}-hours`}>Valid for</label>
          <select id={`${id}-hours`} value={hours} onChange={(e) => setHours(Number(e.target.value))}>
            <option value={24}>1 day</option>
            <option value={72}>3 days</option>
            <option value={168}>1 week</option>
            <option value={720}>30 days</option>
          </select>
        </div>
        <button type="button" className="btn primary" disabled={busy} onClick={() => void create()}>
          Create invite link
        </button>
      </div>
      {link && (
        <div className="feed-link new-secret" role="status">
          <label htmlFor={`${id}-link`}>Invite link: copy it now, it is not shown again</label>
          <div className="copy-row">
            <input id={`${id}-link`} type="url" readOnly value={link} onFocus={(e) => e.target.select()} data-testid="invite-link" />
            <button type="button" className="btn" onClick={() => void copy()}>
              Copy
            </button>
          </div>
        </div>
      )}
      <ErrorLine error={error} />
      <h3 className="member-sub">Pending invites</h3>
      {invites && invites.length === 0 && <p className="muted">None.</p>}
      {invites && invites.length > 0 && (
        <ul className="plain-list item-list" aria-label="Pending invites" data-testid="invites-list">
          {invites.map((inv) => (
            <li key={inv.id}>
              <span>
                Made {when(inv.createdAt)}
                <span className="muted item-meta">expires {when(inv.expiresAt)}</span>
              </span>
              <button type="button" className="btn" disabled={busy} onClick={() => void revoke(inv)} aria-label={`Revoke the invite made ${when(inv.createdAt)}`}>
                Revoke
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

/** `#/people`, administrators only: accounts and invites. */
export function PeoplePage() {
  const { transport } = useSignedIn();
  const [accounts, setAccounts] = useState<AdminAccount[] | null>(null);
  const { error, run } = useRequest();
  const refresh = useCallback(() => run(async () => setAccounts(await listAccounts(transport))), [run, transport]);
  useEffect(() => {
    void refresh();
  }, [refresh]);
  return (
    <div className="people-view">
      <div className="view-head">
        <div>
          <h1>People</h1>
          <p className="sub">Who can sign in to this SkillTrack.</p>
        </div>
      </div>
      <ErrorLine error={error} />
      <div className="stack">
        <InvitesPanel />
        <AccountsPanel accounts={accounts} refresh={refresh} />
      </div>
    </div>
  );
}
