import { useState } from 'react';
import { useSync } from '../app/sync-context';
import { Dialog } from '../ui/Dialog';
import { signIn } from './api';
import { CredentialsForm } from './CredentialsForm';
import { useSignedIn } from './session-context';

/**
 * The server answered 401: the session ended (expired, signed out elsewhere, account
 * disabled). Edits stay queued; signing in again as the same person sends them, and
 * another person gets their own copy instead (the queue is never sent as them).
 */
export function SessionEndedDialog() {
  const { state, pending } = useSync();
  const { account, transport, signedInAgain } = useSignedIn();
  const [later, setLater] = useState(false);
  const open = state === 'auth' && !later;
  return (
    <>
      <Dialog open={open} onClose={() => setLater(true)} title="Sign in again">
        <p data-testid="session-ended">
          Your session has ended.{' '}
          {pending > 0
            ? `${pending} edit${pending === 1 ? ' is' : 's are'} kept on this device and sent once you sign in as ${account.username}.`
            : `Sign in as ${account.username} to keep syncing.`}
        </p>
        <CredentialsForm
          submitLabel="Sign in"
          newAccount={false}
          initialUsername={account.username}
          onSubmit={async (c) => {
            const a = await signIn(transport, c);
            setLater(false);
            signedInAgain(a);
          }}
        >
          <button type="button" className="btn" onClick={() => setLater(true)}>
            Later
          </button>
        </CredentialsForm>
      </Dialog>
      {state === 'auth' && later && (
        <button type="button" className="btn primary sign-in-again" onClick={() => setLater(false)}>
          Sign in
        </button>
      )}
    </>
  );
}
