import { StrictMode, useCallback, useEffect, useMemo, useState } from 'react';
import { ApiError, inviteTokenFromLocation, signOut, signOutEverywhere, type Account, type AuthState } from '../auth/api';
import { InviteScreen, SetupScreen, SignInScreen } from '../auth/AuthScreens';
import { adoptLegacyCopy, localStoreName, rememberAuth, removeLocalCopy } from '../auth/device';
import { SessionContext, type Session } from '../auth/session-context';
import { SyncEngine } from '../sync/engine';
import { migrateOldData } from '../sync/migration';
import { openLocalStore } from '../sync/store';
import { localStorageTokens, memoryTokens, Transport } from '../sync/transport';
import { App } from './App';
import { EngineContext } from './sync-context';

type Phase =
  | { kind: 'library'; account: Account | null }
  | { kind: 'setup' }
  | { kind: 'sign-in'; previous: Account | null }
  | { kind: 'invite'; token: string };

/** Where a start begins: the server's answer, or what this device remembers of it. */
export function firstPhase(state: AuthState, remembered: Account | null): Phase {
  if (state.mode === 'none') return { kind: 'library', account: null };
  if (state.account) return { kind: 'library', account: state.account };
  const invite = inviteTokenFromLocation();
  if (invite) return { kind: 'invite', token: invite };
  if (state.setupRequired) return { kind: 'setup' };
  return { kind: 'sign-in', previous: remembered };
}

/** Once per page: StrictMode's second effect run waits for the first one's copy. */
let legacyAdoption: Promise<boolean> | null = null;

/**
 * The local copy of one account (or the one library without accounts): opened, loaded
 * and syncing while mounted, let go of when another account takes over.
 */
function useLibraryEngine(account: Account | null): SyncEngine | null {
  const [engine, setEngine] = useState<SyncEngine | null>(null);
  const id = account?.id ?? null;
  useEffect(() => {
    let cancelled = false;
    let opened: SyncEngine | null = null;
    void (async () => {
      const store = await openLocalStore(localStoreName(id));
      if (id === 1) {
        legacyAdoption ??= adoptLegacyCopy(store, openLocalStore).catch(() => false);
        await legacyAdoption;
      }
      // With accounts the session cookie authenticates; the old api_token is not sent.
      const transport = new Transport('', id === null ? localStorageTokens() : memoryTokens());
      const e = new SyncEngine(store, transport, { autoPull: true });
      await e.load();
      if (cancelled) {
        store.close();
        return;
      }
      opened = e;
      setEngine(e);
      // The old app's localStorage data belongs to the library of before accounts (owner 1).
      if (id === null || id === 1) {
        const unsubscribe = e.subscribe(() => {
          if (!e.getSnapshot().reachedServer) return;
          unsubscribe();
          void migrateOldData(e, localStorage);
        });
      }
      e.start();
    })();
    return () => {
      cancelled = true;
      setEngine(null);
      void opened?.close();
    };
  }, [id]);
  return engine;
}

function Library({
  account,
  authTransport,
  updated,
  onAccount,
  onSignedOut,
}: {
  account: Account | null;
  authTransport: Transport;
  updated: boolean;
  onAccount: (a: Account) => void;
  onSignedOut: () => void;
}) {
  const engine = useLibraryEngine(account);

  const session: Session | null = useMemo(() => {
    if (!account || !engine) return null;
    return {
      account,
      transport: authTransport,
      update: onAccount,
      signedInAgain: (a) => {
        onAccount(a);
        // The same person: what waited in the queue goes out under their new session.
        if (a.id === account.id) engine.resume();
      },
      async signOut(everywhere) {
        try {
          await (everywhere ? signOutEverywhere(authTransport) : signOut(authTransport));
        } catch (e) {
          // Already ended on the server: signing out here still clears the device.
          if (!(e instanceof ApiError && e.status === 401)) throw e;
        }
        await engine.close();
        await removeLocalCopy(account);
        onSignedOut();
      },
    };
  }, [account, engine, authTransport, onAccount, onSignedOut]);

  if (!engine) return <p className="loading" role="status">Loading…</p>;
  return (
    <EngineContext.Provider value={engine}>
      <SessionContext.Provider value={session}>
        <App updated={updated} />
      </SessionContext.Provider>
    </EngineContext.Provider>
  );
}

/** Without accounts: the app as always. With them: setup, sign-in or an invite first. */
export function Root({ initial, remembered, updated }: { initial: AuthState; remembered: Account | null; updated: boolean }) {
  const [phase, setPhase] = useState<Phase>(() => firstPhase(initial, remembered));
  const authTransport = useMemo(() => new Transport('', memoryTokens()), []);

  const enter = useCallback((account: Account) => {
    rememberAuth({ mode: 'accounts', setupRequired: false, account });
    if (inviteTokenFromLocation()) history.replaceState(null, '', '/#/dashboard');
    setPhase({ kind: 'library', account });
  }, []);
  const signedOut = useCallback(() => {
    history.replaceState(null, '', '/');
    setPhase({ kind: 'sign-in', previous: null });
  }, []);

  // An invite link opened in a tab that shows the sign-in screen.
  useEffect(() => {
    if (phase.kind === 'library') return;
    const onHash = () => {
      const token = inviteTokenFromLocation();
      if (token) setPhase({ kind: 'invite', token });
    };
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, [phase.kind]);

  let content;
  switch (phase.kind) {
    case 'library':
      content = (
        <Library
          key={phase.account?.id ?? 'none'}
          account={phase.account}
          authTransport={authTransport}
          updated={updated}
          onAccount={enter}
          onSignedOut={signedOut}
        />
      );
      break;
    case 'setup':
      content = <SetupScreen transport={authTransport} onDone={enter} />;
      break;
    case 'invite':
      content = (
        <InviteScreen
          transport={authTransport}
          token={phase.token}
          onDone={enter}
          onSignIn={() => {
            history.replaceState(null, '', '/');
            setPhase({ kind: 'sign-in', previous: null });
          }}
        />
      );
      break;
    default:
      content = <SignInScreen transport={authTransport} onDone={enter} previous={phase.previous} />;
  }
  return <StrictMode>{content}</StrictMode>;
}
