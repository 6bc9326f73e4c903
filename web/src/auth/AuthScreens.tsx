import { useEffect, useRef, useState, type ReactNode } from 'react';
import { Icon } from '../ui/Icon';
import { acceptInvite, checkInvite, problemText, setup, signIn, type Account } from './api';
import { CredentialsForm } from './CredentialsForm';
import type { Transport } from '../sync/transport';

/** The frame of every screen shown before anyone is signed in. */
function AuthFrame({ title, children }: { title: string; children: ReactNode }) {
  const heading = useRef<HTMLHeadingElement>(null);
  // A new screen: its heading takes focus, so screen readers start there.
  useEffect(() => heading.current?.focus(), [title]);
  return (
    <main className="auth-screen" id="main">
      <section className="card auth-card" aria-labelledby="auth-title">
        <div className="brand">
          <span className="logo" aria-hidden="true">
            <Icon name="check" />
          </span>
          SkillTrack
        </div>
        <h1 id="auth-title" ref={heading} tabIndex={-1}>
          {title}
        </h1>
        {children}
      </section>
    </main>
  );
}

export function SetupScreen({ transport, onDone }: { transport: Transport; onDone: (a: Account) => void }) {
  return (
    <AuthFrame title="Create the first account">
      <p className="muted">This account is the administrator: it keeps the library already on this server and can invite the rest of the team.</p>
      <CredentialsForm submitLabel="Create account" newAccount onSubmit={async (c) => onDone(await setup(transport, c))} />
    </AuthFrame>
  );
}

export function SignInScreen({
  transport,
  onDone,
  previous,
}: {
  transport: Transport;
  onDone: (a: Account) => void;
  /** Who was signed in here last; their edits on this device wait for them. */
  previous: Account | null;
}) {
  return (
    <AuthFrame title="Sign in">
      {previous && (
        <p className="muted" data-testid="kept-edits-note">
          Your session ended. Edits made on this device as {previous.username} are kept and sent once you sign in again.
        </p>
      )}
      <CredentialsForm submitLabel="Sign in" newAccount={false} initialUsername={previous?.username ?? ''} onSubmit={async (c) => onDone(await signIn(transport, c))} />
      <p className="muted auth-foot">No account yet? Ask your administrator for an invite link.</p>
    </AuthFrame>
  );
}

export function InviteScreen({
  transport,
  token,
  onDone,
  onSignIn,
}: {
  transport: Transport;
  token: string;
  onDone: (a: Account) => void;
  onSignIn: () => void;
}) {
  const [check, setCheck] = useState<{ state: 'checking' } | { state: 'valid'; expiresAt: string } | { state: 'invalid'; message: string }>({
    state: 'checking',
  });
  useEffect(() => {
    let live = true;
    checkInvite(transport, token).then(
      (r) => live && setCheck({ state: 'valid', expiresAt: r.expiresAt }),
      (e: unknown) => live && setCheck({ state: 'invalid', message: problemText(e) }),
    );
    return () => {
      live = false;
    };
  }, [transport, token]);

  return (
    <AuthFrame title="Join SkillTrack">
      {check.state === 'checking' && (
        <p role="status" className="muted">
          Checking the invite…
        </p>
      )}
      {check.state === 'invalid' && (
        <>
          <p className="field-error" role="alert" data-testid="invite-invalid">
            {check.message}
          </p>
          <button type="button" className="btn" onClick={onSignIn}>
            Go to sign-in
          </button>
        </>
      )}
      {check.state === 'valid' && (
        <>
          <p className="muted">
            Choose a username and a password for your account. This invite works once
            {check.expiresAt ? ` and until ${new Date(check.expiresAt).toLocaleString()}` : ''}.
          </p>
          <CredentialsForm submitLabel="Create my account" newAccount onSubmit={async (c) => onDone(await acceptInvite(transport, token, c))} />
        </>
      )}
    </AuthFrame>
  );
}
