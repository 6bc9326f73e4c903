import { createContext, useContext } from 'react';
import type { Transport } from '../sync/transport';
import type { Account } from './api';

/** The signed-in person, with accounts on; absent (null) when the server runs without them. */
export interface Session {
  account: Account;
  /** For the accounts API: the session cookie, no bearer token. */
  transport: Transport;
  /** The server sent a newer copy of the account (sharing turned on, say). */
  update(account: Account): void;
  /** Signed in again after the session ended: the same person resumes, another one switches copies. */
  signedInAgain(account: Account): void;
  /** Ends the session (or all of them) and removes this account's local copy from the device. */
  signOut(everywhere: boolean): Promise<void>;
}

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session | null {
  return useContext(SessionContext);
}

export function useSignedIn(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error('SessionContext missing');
  return s;
}
