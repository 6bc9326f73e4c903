// The accounts API (docs/accounts.md): typed calls and the wording of every error the
// person can meet. Online only; nothing here is queued.

import { NetworkError, type Transport } from '../sync/transport';

export interface Account {
  id: number;
  username: string;
  isAdmin: boolean;
  shareProgress: boolean;
}

export interface AuthState {
  mode: 'none' | 'accounts';
  setupRequired: boolean;
  account: Account | null;
}

export interface ApiToken {
  id: string;
  name: string;
  createdAt: string;
  lastUsedAt: string | null;
}

export interface NewApiToken {
  id: string;
  name: string;
  createdAt: string;
  token: string;
}

export interface AdminAccount extends Account {
  disabled: boolean;
  createdAt: string;
  lastSeenAt: string | null;
  courses: number;
}

export interface Invite {
  id: string;
  createdAt: string;
  expiresAt: string;
}

export interface NewInvite {
  id: string;
  token: string;
  path: string;
  url: string;
  expiresAt: string;
}

export interface TeamMember {
  username: string;
  monthlyGoal: number;
  completedThisMonth: number;
  completedThisYear: number;
  studying: { title: string; completionRatio: number }[];
}

/** A refused call: the API's code, the HTTP status and a sentence for the person. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly retryAfter: number | null = null,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

const WORDING: Record<string, string> = {
  invalid_credentials: 'Wrong username or password.',
  username_taken: 'That username is taken; choose another.',
  invite_invalid: 'This invite link is not valid: it was used, revoked or has expired. Ask for a new one.',
  setup_done: 'The first account already exists. Sign in instead.',
  accounts_off: 'Accounts are turned off on this server.',
  invalid_username: 'Usernames are 1 to 32 characters: lower-case letters, digits, dots, underscores and hyphens.',
  invalid_password: 'Passwords are 8 to 1024 characters long.',
  wrong_password: 'The current password is wrong.',
  admin_only: 'Only an administrator can do that.',
  sign_in_required: 'Your session has ended. Sign in again.',
  confirm_required: 'Type the username exactly to confirm.',
  cross_site: 'The request was refused as coming from another site. Reload the page and try again.',
};

function readError(body: unknown): { code: string; message: string | null } {
  if (body && typeof body === 'object' && 'error' in body) {
    const e = (body as { error: unknown }).error;
    if (e && typeof e === 'object') {
      const o = e as Record<string, unknown>;
      return { code: typeof o.code === 'string' ? o.code : '', message: typeof o.message === 'string' ? o.message : null };
    }
  }
  return { code: '', message: null };
}

/** The sentence shown for a refusal; 429 says how long to wait. */
export function describeError(status: number, body: unknown, retryAfter: number | null): string {
  const { code, message } = readError(body);
  if (status === 429 || code === 'too_many_attempts') {
    const wait = retryAfter ?? 30;
    return `Too many attempts. Try again in ${wait} second${wait === 1 ? '' : 's'}.`;
  }
  if (code in WORDING) return WORDING[code];
  if (status === 401) return WORDING.sign_in_required;
  if (status === 403) return message ?? 'You are not allowed to do that.';
  if (status === 404) return message ?? 'Not found.';
  if (status >= 500) return `The server had a problem (${status}). Try again in a moment.`;
  return message ?? `The server refused the request (${status}).`;
}

/** Wraps a network failure in the same kind of error, so forms show one message. */
export function problemText(e: unknown): string {
  if (e instanceof NetworkError) return 'The server cannot be reached. Check the connection and try again.';
  return e instanceof Error ? e.message : String(e);
}

async function call<T>(t: Transport, path: string, method = 'GET', json?: unknown, ok = [200, 201]): Promise<T> {
  const res = await t.request(path, { method, json });
  if (!ok.includes(res.status)) {
    const ra = Number(res.headers.get('Retry-After'));
    const retryAfter = Number.isFinite(ra) && ra > 0 ? Math.ceil(ra) : null;
    throw new ApiError(res.status, readError(res.body).code, describeError(res.status, res.body, retryAfter), retryAfter);
  }
  return res.body as T;
}

function accountOf(body: unknown): Account {
  const a = (body as { account?: Account } | null)?.account;
  if (!a || typeof a.id !== 'number') throw new ApiError(500, 'bad_answer', 'The server gave an unexpected answer.');
  return a;
}

/**
 * The server's mode and who is signed in. A server from before accounts (404) or one
 * that guards every route with `api_token` (401) runs without accounts.
 */
export async function fetchAuthState(t: Transport): Promise<AuthState> {
  const res = await t.request('/api/auth/state');
  if (res.status !== 200) return { mode: 'none', setupRequired: false, account: null };
  const b = (res.body ?? {}) as Partial<AuthState>;
  return {
    mode: b.mode === 'accounts' ? 'accounts' : 'none',
    setupRequired: b.setupRequired === true,
    account: b.account && typeof b.account.id === 'number' ? b.account : null,
  };
}

export interface Credentials {
  username: string;
  password: string;
}

export const setup = async (t: Transport, c: Credentials) => accountOf(await call(t, '/api/auth/setup', 'POST', c));
export const signIn = async (t: Transport, c: Credentials) => accountOf(await call(t, '/api/auth/sign-in', 'POST', c));
export const checkInvite = (t: Transport, token: string) =>
  call<{ valid: boolean; expiresAt: string }>(t, `/api/auth/invites/${encodeURIComponent(token)}`);
export const acceptInvite = async (t: Transport, token: string, c: Credentials) =>
  accountOf(await call(t, `/api/auth/invites/${encodeURIComponent(token)}/accept`, 'POST', c));

export const signOut = (t: Transport) => call<unknown>(t, '/api/auth/sign-out', 'POST', {}).then(() => undefined);
export const signOutEverywhere = (t: Transport) => call<unknown>(t, '/api/auth/sign-out-everywhere', 'POST', {}).then(() => undefined);
export const changePassword = (t: Transport, currentPassword: string, newPassword: string) =>
  call<unknown>(t, '/api/auth/password', 'POST', { currentPassword, newPassword }).then(() => undefined);
export const setSharing = async (t: Transport, share: boolean) => accountOf(await call(t, '/api/auth/sharing', 'PUT', { share }));

export const listTokens = async (t: Transport) => (await call<{ tokens: ApiToken[] }>(t, '/api/auth/tokens')).tokens ?? [];
export const createToken = (t: Transport, name: string) => call<NewApiToken>(t, '/api/auth/tokens', 'POST', { name });
export const revokeToken = (t: Transport, id: string) =>
  call<unknown>(t, `/api/auth/tokens/${encodeURIComponent(id)}`, 'DELETE').then(() => undefined);

export const fetchTeam = async (t: Transport) => (await call<{ members: TeamMember[] }>(t, '/api/team')).members ?? [];

export const listAccounts = async (t: Transport) => (await call<{ accounts: AdminAccount[] }>(t, '/api/admin/accounts')).accounts ?? [];
export const setDisabled = (t: Transport, id: number, disabled: boolean) =>
  call<unknown>(t, `/api/admin/accounts/${id}`, 'PATCH', { disabled }).then(() => undefined);
export const removeAccount = (t: Transport, id: number, username: string) =>
  call<unknown>(t, `/api/admin/accounts/${id}?confirm=${encodeURIComponent(username)}`, 'DELETE').then(() => undefined);
export const createInvite = (t: Transport, expiresInHours?: number) =>
  call<NewInvite>(t, '/api/admin/invites', 'POST', expiresInHours ? { expiresInHours } : {});
export const listInvites = async (t: Transport) => (await call<{ invites: Invite[] }>(t, '/api/admin/invites')).invites ?? [];
export const revokeInvite = (t: Transport, id: string) =>
  call<unknown>(t, `/api/admin/invites/${encodeURIComponent(id)}`, 'DELETE').then(() => undefined);

/** That person's export, saved as a file, before their account is removed. */
export async function downloadAccountExport(t: Transport, a: { id: number; username: string }): Promise<void> {
  const res = await t.request(`/api/admin/accounts/${a.id}/export`, { blob: true });
  if (res.status !== 200 || !(res.body instanceof Blob)) {
    throw new ApiError(res.status, readError(res.body).code, describeError(res.status, res.body, null));
  }
  const url = URL.createObjectURL(res.body);
  const link = document.createElement('a');
  link.href = url;
  link.download = `skilltrack-${a.username}-${new Date().toISOString().slice(0, 10)}.json`;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/**
 * The invite token in this page's address: `#/invite/<token>` (the app's own route) or
 * `/invite/<token>` (a server-built path served the app through the SPA fallback).
 */
export function inviteTokenFromLocation(loc: Pick<Location, 'hash' | 'pathname'> = location): string | null {
  const m = /^#\/invite\/([^/?#]+)$/.exec(loc.hash) ?? /^\/invite\/([^/?#]+)\/?$/.exec(loc.pathname);
  return m ? decodeURIComponent(m[1]) : null;
}

/** The link to hand over: the page's own origin and the app's invite route. */
export function inviteLink(origin: string, invite: Pick<NewInvite, 'token' | 'path' | 'url'>): string {
  if (invite.path && /\/invite\//.test(invite.path)) return origin + invite.path;
  return `${origin}/#/invite/${encodeURIComponent(invite.token)}`;
}
