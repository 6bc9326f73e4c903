// What this device keeps per account: the local copy (an IndexedDB database of its
// own, named by account id) and the last account signed in here (so the app can start
// from its copy with the server down). Signing out removes both.

import { deleteDB } from 'idb';
import { FEED_LINK_KEY } from '../calendar/feed';
import { DB_NAME, type LocalStore } from '../sync/store';
import type { Account, AuthState } from './api';

/** Mode and account of the last start that reached the server. */
export const LAST_AUTH_KEY = 'skilltrack_auth';

/** `skilltrack` without accounts (as before); `skilltrack-account-<id>` with them. */
export function localStoreName(accountId: number | null): string {
  return accountId === null ? DB_NAME : `${DB_NAME}-account-${accountId}`;
}

function storage(): Storage | null {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null;
  }
}

export function rememberAuth(state: AuthState): void {
  const s = storage();
  if (!s) return;
  const prev = rememberedAuth();
  // Another person on this device: what the last one kept (their calendar link) is not theirs.
  if (prev?.account && state.account && prev.account.id !== state.account.id) s.removeItem(FEED_LINK_KEY);
  try {
    // An ended session (no account in the answer) keeps who it was: their copy waits for them.
    const account = state.mode === 'accounts' ? (state.account ?? prev?.account ?? null) : null;
    s.setItem(LAST_AUTH_KEY, JSON.stringify({ mode: state.mode, account }));
  } catch {
    /* storage full or disabled: the app then needs the server to start */
  }
}

export function rememberedAuth(): { mode: AuthState['mode']; account: Account | null } | null {
  try {
    const raw = storage()?.getItem(LAST_AUTH_KEY);
    if (!raw) return null;
    const v = JSON.parse(raw) as { mode?: unknown; account?: Account | null };
    if (v.mode !== 'none' && v.mode !== 'accounts') return null;
    return { mode: v.mode, account: v.account && typeof v.account.id === 'number' ? v.account : null };
  } catch {
    return null;
  }
}

/** Signing out: this account's local copy, queue included, leaves the device. */
export async function removeLocalCopy(account: Account): Promise<void> {
  const s = storage();
  s?.removeItem(FEED_LINK_KEY);
  const prev = rememberedAuth();
  if (s && prev) s.setItem(LAST_AUTH_KEY, JSON.stringify({ mode: prev.mode, account: null }));
  await deleteDB(localStoreName(account.id), {
    blocked() {
      /* another tab still has it open; it is deleted once that tab lets go */
    },
  });
}

/**
 * The first account keeps the library of the server's time without accounts (owner 1),
 * so its copy on a device that ran the app then, queued edits included, moves over
 * into its own database the first time it signs in there.
 */
export async function adoptLegacyCopy(target: LocalStore, open: (name: string) => Promise<LocalStore>): Promise<boolean> {
  const mine = await target.loadAll();
  if (mine.records.length > 0 || mine.queue.length > 0 || mine.meta.size > 0) return false;
  const known = typeof indexedDB !== 'undefined' && 'databases' in indexedDB ? await indexedDB.databases() : [];
  if (!known.some((d) => d.name === DB_NAME)) return false;
  const legacy = await open(DB_NAME);
  try {
    const old = await legacy.loadAll();
    if (old.records.length === 0 && old.queue.length === 0) return false;
    await target.write({ records: old.records, queue: old.queue, meta: [...old.meta.entries()] });
  } finally {
    legacy.close();
  }
  await deleteDB(DB_NAME);
  return true;
}
