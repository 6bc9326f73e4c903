import { useEffect, useState } from 'react';
import { fetchActivity, type ActivityItem } from '../sync/api';
import { useEngine, useSync } from './sync-context';

/**
 * The server's activity log, refetched when the data changes. Offline it is null and
 * callers fall back to what the local copy knows.
 */
export function useActivity(limit = 500): ActivityItem[] | null {
  const engine = useEngine();
  const { courses, reachedServer, state } = useSync();
  const lastRev = courses.reduce((m, c) => Math.max(m, c.rev), 0);
  const [activity, setActivity] = useState<ActivityItem[] | null>(null);
  useEffect(() => {
    if (!reachedServer || state === 'offline') return;
    let live = true;
    const t = setTimeout(() => void fetchActivity(engine.transport, limit).then((a) => live && a && setActivity(a)), 300);
    return () => {
      live = false;
      clearTimeout(t);
    };
  }, [engine, reachedServer, lastRev, limit, state]);
  return activity;
}

/** When each course last had its progress or status changed. */
export function lastStudiedById(activity: ActivityItem[] | null): Map<string, string> {
  const out = new Map<string, string>();
  for (const a of activity ?? []) {
    if (a.action !== 'progress' && a.action !== 'status') continue;
    const prev = out.get(a.courseId);
    if (!prev || prev < a.at) out.set(a.courseId, a.at);
  }
  return out;
}
