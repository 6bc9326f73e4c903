// The calendar feed's link: made, shown and revoked through the API; kept on the
// device that made it, since the server keeps only a hash of its token.

import type { FeedTokenCreated, FeedTokenStatus } from '../api/types';
import { errorMessage, type Transport } from '../sync/transport';

export const FEED_LINK_KEY = 'skilltrack_calendar_link';
const TOKEN_PATH = '/api/calendar/token';

export async function feedStatus(t: Transport): Promise<FeedTokenStatus> {
  const res = await t.request(TOKEN_PATH);
  if (res.status !== 200) throw new Error(errorMessage(res.body, `could not read the calendar link (${res.status})`));
  const body = res.body as FeedTokenStatus;
  return { active: body.active === true, createdAt: typeof body.createdAt === 'string' ? body.createdAt : null };
}

/**
 * Makes a new link (the old one stops working) and returns its URL on this page's
 * origin: the address the person reached the app at, which a calendar app can too.
 */
export async function createFeedLink(t: Transport, origin: string): Promise<string> {
  const res = await t.request(TOKEN_PATH, { method: 'POST' });
  const body = res.body as FeedTokenCreated | null;
  if (res.status !== 201 || !body || typeof body.path !== 'string') {
    throw new Error(errorMessage(res.body, `could not make a calendar link (${res.status})`));
  }
  return origin + body.path;
}

export async function revokeFeedLink(t: Transport): Promise<void> {
  const res = await t.request(TOKEN_PATH, { method: 'DELETE' });
  if (res.status !== 200) throw new Error(errorMessage(res.body, `could not turn the calendar link off (${res.status})`));
}

/** The same feed for apps that subscribe through the webcal scheme (Apple Calendar, Outlook). */
export function webcalUrl(link: string): string {
  return link.replace(/^https?:/, 'webcal:');
}

export function storedLink(storage: Pick<Storage, 'getItem'> | undefined = globalThis.localStorage): string | null {
  try {
    return storage?.getItem(FEED_LINK_KEY) ?? null;
  } catch {
    return null;
  }
}

export function storeLink(link: string | null, storage: Pick<Storage, 'setItem' | 'removeItem'> | undefined = globalThis.localStorage): void {
  try {
    if (link) storage?.setItem(FEED_LINK_KEY, link);
    else storage?.removeItem(FEED_LINK_KEY);
  } catch {
    /* kept for this page only */
  }
}
