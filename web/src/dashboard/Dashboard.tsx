import { useMemo } from 'react';
import { useActivity } from '../app/activity';
import type { Course, Status } from '../api/types';
import { useEngine, useSync } from '../app/sync-context';
import { CategoryChart } from '../charts/CategoryChart';
import { CompletionsChart } from '../charts/CompletionsChart';
import { StatusChart } from '../charts/StatusChart';
import { DeadlineText } from '../course/CourseCard';
import { ProgressStepper } from '../course/ProgressStepper';
import { parseInstant, relativeDays, timeAgo } from '../domain/dates';
import { activeCourses, completionSeries, deadlines, libraryStats, progressByCategory, statusBreakdown } from '../domain/stats';
import { EmptyLibrary, Loading } from '../library/EmptyLibrary';
import type { LibraryFilter } from '../library/filter';
import type { ActivityItem } from '../sync/api';
import { GoalTracker } from './GoalTracker';

export function Dashboard({ openLibrary }: { openLibrary: (patch: Partial<LibraryFilter>) => void }) {
  const { courses, settings, ready } = useSync();
  const engine = useEngine();
  const active = useMemo(() => activeCourses(courses), [courses]);
  const stats = useMemo(() => libraryStats(active), [active]);
  const goal = Math.max(0, Math.trunc(Number(settings.monthly_goal ?? 2)) || 0);
  const series = useMemo(() => completionSeries(courses, 12), [courses]);
  const pinned = active.filter((c) => c.pinnedToDashboard).sort((a, b) => a.sortOrder - b.sortOrder);
  const upNext = active.filter((c) => c.status === 'Up Next').sort((a, b) => a.sortOrder - b.sortOrder).slice(0, 6);
  const dl = useMemo(() => deadlines(active, 14), [active]);

  const activity = useActivity();

  const recent = useMemo(() => recentlyStudied(active, activity), [active, activity]);

  if (!ready) return <Loading />;
  if (courses.length === 0) return <EmptyLibrary />;

  const cards: { label: string; value: string; patch: Partial<LibraryFilter>; tone: string }[] = [
    { label: 'Total courses', value: String(stats.total), patch: { status: 'all' }, tone: 'total' },
    { label: 'Completed', value: String(stats.completed), patch: { status: 'Completed' }, tone: 'done' },
    { label: 'In progress', value: String(stats.inProgress), patch: { status: 'In Progress' }, tone: 'progress' },
    { label: 'Up next', value: String(stats.upNext), patch: { status: 'Up Next' }, tone: 'next' },
    { label: 'Average progress', value: `${stats.averageProgress}%`, patch: { status: 'all', sort: 'progress' }, tone: 'avg' },
  ];

  return (
    <div className="dashboard">
      <header className="view-head">
        <div>
          <h1>Dashboard</h1>
          <p className="sub">Your learning at a glance</p>
        </div>
      </header>

      <ul className="stat-cards" aria-label="Library statistics">
        {cards.map((c) => (
          <li key={c.label}>
            <button type="button" className={`card stat-card tone-${c.tone}`} onClick={() => openLibrary({ category: null, query: '', ...c.patch })} aria-label={`${c.label}: ${c.value}. Open in library`}>
              <span className="stat-value">{c.value}</span>
              <span className="stat-label">{c.label}</span>
            </button>
          </li>
        ))}
      </ul>

      <div className="dash-grid">
        <GoalTracker courses={courses} goal={goal} />

        <section className="card panel" aria-labelledby="h-completions">
          <h2 id="h-completions">Completions per month</h2>
          <CompletionsChart series={series} goal={goal} />
        </section>

        <section className="card panel" aria-labelledby="h-pinned">
          <h2 id="h-pinned">Active learning</h2>
          {pinned.length === 0 ? (
            <p className="muted">Pin courses from the library (the pin button on a card) to keep them here.</p>
          ) : (
            <ul className="mini-list">
              {pinned.map((c) => (
                <li key={c.id} className="mini">
                  <div className="mini-head">
                    <span className="mini-title">{c.title}</span>
                    <span className="pct">{c.completionRatio}%</span>
                  </div>
                  <ProgressStepper course={c} engine={engine} />
                  <div className="meta">
                    {c.totalLessons > 0 && (
                      <span>
                        {c.completedLessons}/{c.totalLessons} lessons
                      </span>
                    )}
                    <DeadlineText course={c} />
                  </div>
                </li>
              ))}
            </ul>
          )}
        </section>

        <section className="card panel" aria-labelledby="h-deadlines">
          <h2 id="h-deadlines">Deadlines</h2>
          {dl.overdue.length === 0 && dl.upcoming.length === 0 ? (
            <p className="muted">No deadlines in the next two weeks. Set one when editing a course.</p>
          ) : (
            <ul className="plain-list">
              {dl.overdue.map(({ course, days }) => (
                <li key={course.id} className="overdue">
                  <span className="mini-title">{course.title}</span>
                  <span className="deadline overdue">{-days} day{days === -1 ? '' : 's'} overdue</span>
                </li>
              ))}
              {dl.upcoming.map(({ course, days }) => (
                <li key={course.id}>
                  <span className="mini-title">{course.title}</span>
                  <span className={days <= 3 ? 'deadline soon' : 'deadline'}>{relativeDays(days)}</span>
                </li>
              ))}
            </ul>
          )}
        </section>

        <section className="card panel" aria-labelledby="h-upnext">
          <h2 id="h-upnext">Up next</h2>
          {upNext.length === 0 ? (
            <p className="muted">Mark courses as “Up Next” to line up what you study after the current ones.</p>
          ) : (
            <ol className="plain-list numbered">
              {upNext.map((c) => (
                <li key={c.id}>
                  <span className="mini-title">{c.title}</span>
                  <span className="muted">{c.category}</span>
                </li>
              ))}
            </ol>
          )}
        </section>

        <section className="card panel" aria-labelledby="h-recent">
          <h2 id="h-recent">Recently studied</h2>
          {recent.length === 0 ? (
            <p className="muted">Progress you log shows up here.</p>
          ) : (
            <ul className="plain-list">
              {recent.map(({ course, at }) => (
                <li key={course.id}>
                  <span className="mini-title">{course.title}</span>
                  <span className="muted">
                    {course.completionRatio}% · {timeAgo(at)}
                  </span>
                </li>
              ))}
            </ul>
          )}
        </section>

        <section className="card panel" aria-labelledby="h-categories">
          <h2 id="h-categories">Progress by category</h2>
          <CategoryChart rows={progressByCategory(active)} onPick={(category) => openLibrary({ category, status: 'all', query: '' })} />
        </section>

        <section className="card panel" aria-labelledby="h-status">
          <h2 id="h-status">Status breakdown</h2>
          <StatusChart rows={statusBreakdown(active)} onPick={(s: Status) => openLibrary({ status: s, category: null, query: '' })} />
        </section>
      </div>
    </div>
  );
}

/** Courses by latest study activity: the server's log when reachable, else updatedAt. */
function recentlyStudied(active: Course[], activity: ActivityItem[] | null): { course: Course; at: Date }[] {
  const byId = new Map(active.map((c) => [c.id, c]));
  const out: { course: Course; at: Date }[] = [];
  const seen = new Set<string>();
  if (activity) {
    for (const a of activity) {
      const c = byId.get(a.courseId);
      const at = parseInstant(a.at);
      if (a.action !== 'progress' && a.action !== 'status') continue;
      if (!c || !at || seen.has(c.id) || c.completionRatio === 0) continue;
      seen.add(c.id);
      out.push({ course: c, at });
    }
  }
  if (!activity && out.length < 5) {
    const rest = active
      .filter((c) => !seen.has(c.id) && c.completionRatio > 0)
      .map((c) => ({ course: c, at: parseInstant(c.updatedAt) }))
      .filter((x): x is { course: Course; at: Date } => x.at !== null)
      .sort((a, b) => b.at.getTime() - a.at.getTime());
    out.push(...rest);
  }
  return out.sort((a, b) => b.at.getTime() - a.at.getTime()).slice(0, 5);
}
