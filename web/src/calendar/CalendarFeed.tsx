import { useCallback, useEffect, useState } from 'react';
import type { FeedTokenStatus } from '../api/types';
import { useEngine } from '../app/sync-context';
import { useUi } from '../app/ui-context';
import { NetworkError } from '../sync/transport';
import { createFeedLink, feedStatus, revokeFeedLink, storedLink, storeLink, webcalUrl } from './feed';

function problem(e: unknown): string {
  if (e instanceof NetworkError) return 'The server cannot be reached; the calendar link needs a connection.';
  return e instanceof Error ? e.message : String(e);
}

/** "Subscribe in your calendar": the feed link, made, copied, replaced or turned off. */
export function CalendarFeed() {
  const engine = useEngine();
  const ui = useUi();
  const [status, setStatus] = useState<FeedTokenStatus | null>(null);
  const [link, setLink] = useState<string | null>(storedLink);
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<string | null>(null);

  const refresh = useCallback(async () => {
    try {
      const s = await feedStatus(engine.transport);
      setStatus(s);
      setFailure(null);
      // Revoked elsewhere: the kept link no longer works.
      if (!s.active) {
        storeLink(null);
        setLink(null);
      }
    } catch (e) {
      setFailure(problem(e));
    }
  }, [engine]);

  useEffect(() => {
    void refresh();
  }, [refresh]);

  const create = async () => {
    if (status?.active) {
      const ok = await ui.confirm({
        title: 'Make a new calendar link?',
        message: 'The current link stops working in every calendar subscribed to it; subscribe again with the new one.',
        confirmLabel: 'Make a new link',
      });
      if (!ok) return;
    }
    setBusy(true);
    try {
      const url = await createFeedLink(engine.transport, location.origin);
      storeLink(url);
      setLink(url);
      await refresh();
    } catch (e) {
      setFailure(problem(e));
    } finally {
      setBusy(false);
    }
  };

  const revoke = async () => {
    const ok = await ui.confirm({
      title: 'Turn the calendar link off?',
      message: 'Calendars subscribed to it stop getting your deadlines. You can make a new link later.',
      confirmLabel: 'Turn off',
    });
    if (!ok) return;
    setBusy(true);
    try {
      await revokeFeedLink(engine.transport);
      storeLink(null);
      setLink(null);
      await refresh();
      ui.toast('Calendar link turned off');
    } catch (e) {
      setFailure(problem(e));
    } finally {
      setBusy(false);
    }
  };

  const copy = async () => {
    if (!link) return;
    try {
      await navigator.clipboard.writeText(link);
      ui.toast('Calendar link copied');
    } catch {
      ui.toast('Select the link and copy it');
    }
  };

  const active = status?.active ?? false;
  return (
    <section className="card panel" aria-labelledby="h-calendar" data-testid="calendar-feed">
      <h2 id="h-calendar">Subscribe in your calendar</h2>
      <p className="muted">
        Your course deadlines as all-day events in Google Calendar, Apple Calendar, Outlook or any calendar app that subscribes to a link,
        kept up to date. Archived courses are left out; completed ones stay, marked ✓. Anyone with the link sees your deadlines: keep it to
        yourself, and make a new one or turn it off any time.
      </p>
      {active && link && (
        <div className="feed-link">
          <label htmlFor="calendar-link">Calendar link</label>
          <div className="copy-row">
            <input id="calendar-link" type="url" readOnly value={link} onFocus={(e) => e.target.select()} />
            <button type="button" className="btn" onClick={() => void copy()}>
              Copy
            </button>
          </div>
          <p className="muted">
            Paste it where your calendar adds a calendar “from URL”, or <a href={webcalUrl(link)}>open it in your calendar app</a>.
          </p>
        </div>
      )}
      {active && !link && (
        <p data-testid="calendar-link-elsewhere">
          A calendar link is on{status?.createdAt ? ` (made ${new Date(status.createdAt).toLocaleDateString()})` : ''}. It is shown only on the
          device that made it; make a new link to see one here.
        </p>
      )}
      {failure && (
        <p className="field-error" role="alert">
          {failure}
        </p>
      )}
      <div className="empty-actions">
        <button type="button" className="btn primary" disabled={busy || status === null} onClick={() => void create()}>
          {active ? 'Make a new link' : 'Create calendar link'}
        </button>
        {active && (
          <button type="button" className="btn" disabled={busy} onClick={() => void revoke()}>
            Turn off
          </button>
        )}
      </div>
    </section>
  );
}
