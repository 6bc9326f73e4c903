import { useEffect, useId, useRef, useState } from 'react';
import { useSync } from '../app/sync-context';
import { useUi } from '../app/ui-context';
import { Icon } from '../ui/Icon';
import { problemText } from './api';
import { useSignedIn } from './session-context';

/**
 * The top bar's account button: a disclosure listing the account's pages and signing
 * out. Escape or a click elsewhere closes it and focus goes back to the button.
 */
export function AccountMenu({ go }: { go: (view: 'account' | 'team' | 'people') => void }) {
  const { account, signOut } = useSignedIn();
  const { pending } = useSync();
  const ui = useUi();
  const [open, setOpen] = useState(false);
  const id = useId();
  const button = useRef<HTMLButtonElement>(null);
  const box = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (!open) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') {
        setOpen(false);
        button.current?.focus();
      }
    };
    const onPointer = (e: PointerEvent) => {
      if (box.current && !box.current.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener('keydown', onKey);
    document.addEventListener('pointerdown', onPointer);
    box.current?.querySelector<HTMLElement>('a, button:not([aria-expanded])')?.focus();
    return () => {
      document.removeEventListener('keydown', onKey);
      document.removeEventListener('pointerdown', onPointer);
    };
  }, [open]);

  const pick = (view: 'account' | 'team' | 'people') => {
    setOpen(false);
    go(view);
  };

  const leave = async (everywhere: boolean) => {
    setOpen(false);
    const unsaved = pending > 0 ? ` ${pending} edit${pending === 1 ? '' : 's'} not yet saved to the server will be lost.` : '';
    const ok = await ui.confirm({
      title: everywhere ? 'Sign out everywhere?' : 'Sign out?',
      message: `${everywhere ? 'Every device signed in to your account is signed out. ' : ''}This device’s copy of your library is removed.${unsaved}`,
      confirmLabel: everywhere ? 'Sign out everywhere' : 'Sign out',
    });
    if (!ok) return;
    try {
      await signOut(everywhere);
    } catch (e) {
      ui.toast(`Could not sign out: ${problemText(e)}`);
    }
  };

  return (
    <div
      className="account-menu"
      ref={box}
      onBlur={(e) => {
        // Tabbing out of the menu closes it.
        if (open && e.relatedTarget instanceof Node && !box.current?.contains(e.relatedTarget)) setOpen(false);
      }}
    >
      <button
        ref={button}
        type="button"
        className="btn account-btn"
        aria-expanded={open}
        aria-controls={`${id}-menu`}
        aria-label={`Account: ${account.username}`}
        onClick={() => setOpen((o) => !o)}
      >
        <Icon name="user" />
        <span className="hide-sm account-name">{account.username}</span>
      </button>
      <nav id={`${id}-menu`} className="account-pop card" hidden={!open} aria-label="Account">
        <p className="account-who">
          Signed in as <strong>{account.username}</strong>
        </p>
        <ul className="nav-list">
          <li>
            <a href="#/account" className="nav-item" onClick={(e) => { e.preventDefault(); pick('account'); }}>
              <Icon name="user" /> Account settings
            </a>
          </li>
          <li>
            <a href="#/team" className="nav-item" onClick={(e) => { e.preventDefault(); pick('team'); }}>
              <Icon name="users" /> Team
            </a>
          </li>
          {account.isAdmin && (
            <li>
              <a href="#/people" className="nav-item" onClick={(e) => { e.preventDefault(); pick('people'); }}>
                <Icon name="users" /> People
              </a>
            </li>
          )}
          <li>
            <button type="button" className="nav-item" onClick={() => void leave(false)}>
              <Icon name="exit" /> Sign out
            </button>
          </li>
          <li>
            <button type="button" className="nav-item" onClick={() => void leave(true)}>
              <Icon name="exit" /> Sign out everywhere
            </button>
          </li>
        </ul>
      </nav>
    </div>
  );
}
