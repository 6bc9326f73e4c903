import { describe, expect, it } from 'vitest';
import { Transport, memoryTokens } from '../sync/transport';
import { ApiError, describeError, fetchAuthState, inviteLink, inviteTokenFromLocation, signIn } from './api';

const err = (code: string, message = 'server wording') => ({ error: { code, message } });

function transport(status: number, body: unknown, headers: Record<string, string> = {}) {
  const seen: { url: string; init: RequestInit }[] = [];
  const fetchImpl = (async (url: string, init: RequestInit) => {
    seen.push({ url, init });
    return new Response(body === undefined ? '' : JSON.stringify(body), { status, headers });
  }) as unknown as typeof fetch;
  return { t: new Transport('', memoryTokens(), fetchImpl), seen };
}

describe('describeError', () => {
  it('words the accounts API refusals for people', () => {
    expect(describeError(401, err('invalid_credentials'), null)).toBe('Wrong username or password.');
    expect(describeError(409, err('username_taken'), null)).toMatch(/username is taken/);
    expect(describeError(404, err('invite_invalid'), null)).toMatch(/invite link is not valid/);
    expect(describeError(403, err('wrong_password'), null)).toBe('The current password is wrong.');
    expect(describeError(401, err('sign_in_required'), null)).toBe('Your session has ended. Sign in again.');
  });

  it('says how long to wait after too many attempts', () => {
    expect(describeError(429, err('too_many_attempts'), 42)).toBe('Too many attempts. Try again in 42 seconds.');
    expect(describeError(429, err('too_many_attempts'), 1)).toBe('Too many attempts. Try again in 1 second.');
  });

  it('falls back to the server message, then to the status', () => {
    expect(describeError(400, err('something_new', 'the server explains'), null)).toBe('the server explains');
    expect(describeError(502, null, null)).toMatch(/server had a problem \(502\)/);
  });
});

describe('calls', () => {
  it('reads Retry-After into the error', async () => {
    const { t } = transport(429, err('too_many_attempts'), { 'Retry-After': '30' });
    const e = await signIn(t, { username: 'a', password: 'b' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ApiError);
    expect((e as ApiError).retryAfter).toBe(30);
    expect((e as ApiError).message).toBe('Too many attempts. Try again in 30 seconds.');
  });

  it('takes a server without accounts (404) or behind api_token (401) as mode none', async () => {
    for (const status of [401, 404]) {
      const { t } = transport(status, err('x'));
      expect(await fetchAuthState(t)).toEqual({ mode: 'none', setupRequired: false, account: null });
    }
    const acct = { id: 2, username: 'bea', isAdmin: false, shareProgress: false };
    const { t } = transport(200, { mode: 'accounts', setupRequired: false, account: acct });
    expect(await fetchAuthState(t)).toEqual({ mode: 'accounts', setupRequired: false, account: acct });
  });

  it('never sends a bearer token with accounts', async () => {
    const { t, seen } = transport(200, { account: { id: 1, username: 'a', isAdmin: true, shareProgress: false } });
    await signIn(t, { username: 'a', password: 'password1' });
    expect((seen[0].init.headers as Record<string, string>).Authorization).toBeUndefined();
    expect(seen[0].init.method).toBe('POST');
  });
});

describe('invite links', () => {
  it('reads the token from the hash route or the path', () => {
    expect(inviteTokenFromLocation({ hash: '#/invite/abc_D-1', pathname: '/' })).toBe('abc_D-1');
    expect(inviteTokenFromLocation({ hash: '', pathname: '/invite/xyz' })).toBe('xyz');
    expect(inviteTokenFromLocation({ hash: '#/library', pathname: '/' })).toBeNull();
  });

  it('builds the link on the page origin from the API path', () => {
    expect(inviteLink('https://t.example', { token: 'abc', path: '/#/invite/abc', url: 'http://internal/#/invite/abc' })).toBe(
      'https://t.example/#/invite/abc',
    );
    expect(inviteLink('https://t.example', { token: 'abc', path: '', url: '' })).toBe('https://t.example/#/invite/abc');
  });
});
