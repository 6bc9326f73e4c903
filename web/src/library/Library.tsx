import { useCallback, useEffect, useMemo, useRef } from 'react';
import type { Status } from '../api/types';
import { STATUSES } from '../api/types';
import { lastStudiedById, useActivity } from '../app/activity';
import { useEngine, useSync } from '../app/sync-context';
import { useUi } from '../app/ui-context';
import { CourseCard } from '../course/CourseCard';
import { move } from '../course/actions';
import { libraryStats } from '../domain/stats';
import { Icon } from '../ui/Icon';
import { applyFilter, categoryCounts, DEFAULT_FILTER, type LibraryFilter, type SortKey } from './filter';
import { EmptyLibrary, Loading } from './EmptyLibrary';

const SORT_LABELS: Record<SortKey, string> = {
  manual: 'Manual order',
  date: 'Purchase date',
  title: 'Title',
  progress: 'Progress',
  deadline: 'Deadline',
};

export function Library({ filter, setFilter }: { filter: LibraryFilter; setFilter: (f: LibraryFilter) => void }) {
  const { courses, ready } = useSync();
  const engine = useEngine();
  const ui = useUi();
  const search = useRef<HTMLInputElement>(null);
  const shown = useMemo(() => applyFilter(courses, filter), [courses, filter]);
  const scopeStats = useMemo(() => libraryStats(shown.filter((c) => !c.isArchived)), [shown]);
  const cats = useMemo(() => categoryCounts(courses, filter.showArchived), [courses, filter.showArchived]);
  const archivedCount = courses.filter((c) => c.isArchived).length;
  // A stable handler keeps the memoised cards from re-rendering on every change.
  const shownRef = useRef(shown);
  shownRef.current = shown;
  const onMove = useCallback((id: string, dir: -1 | 1) => void move(engine, shownRef.current, id, dir), [engine]);
  const activity = useActivity();
  const studied = useMemo(() => lastStudiedById(activity), [activity]);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement | null;
      const typing = t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT' || t.isContentEditable);
      if (e.key === '/' && !typing && !document.querySelector('dialog[open]')) {
        e.preventDefault();
        search.current?.focus();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  const set = (patch: Partial<LibraryFilter>) => setFilter({ ...filter, ...patch });
  const filtered = filter.query !== '' || filter.category !== null || filter.status !== 'all' || filter.favoritesOnly;
  const canMove = filter.sort === 'manual';

  if (!ready) return <Loading />;
  if (courses.length === 0) return <EmptyLibrary />;

  return (
    <section className="library" aria-labelledby="library-heading">
      <header className="view-head">
        <div>
          <h1 id="library-heading">{filter.category ?? 'All courses'}</h1>
          <p className="sub" data-testid="scope-stats">
            {scopeStats.total} course{scopeStats.total === 1 ? '' : 's'} · {scopeStats.completed} completed · {scopeStats.inProgress} in progress · {scopeStats.averageProgress}% average
          </p>
        </div>
        <button type="button" className="btn primary" onClick={() => ui.edit(null)}>
          <Icon name="plus" /> Add course
        </button>
      </header>

      <div className="toolbar" role="search">
        <div className="search">
          <Icon name="search" />
          <input
            ref={search}
            type="search"
            placeholder="Search courses  ( / )"
            aria-label="Search courses"
            aria-keyshortcuts="/"
            value={filter.query}
            onChange={(e) => set({ query: e.target.value })}
          />
        </div>
        <label className="sel">
          <span className="sr-only">Category</span>
          <select aria-label="Category" value={filter.category ?? ''} onChange={(e) => set({ category: e.target.value || null })}>
            <option value="">All categories</option>
            {cats.map((c) => (
              <option key={c.category} value={c.category}>
                {c.category} ({c.count})
              </option>
            ))}
          </select>
        </label>
        <label className="sel">
          <span className="sr-only">Status</span>
          <select aria-label="Status" value={filter.status} onChange={(e) => set({ status: e.target.value as Status | 'all' })}>
            <option value="all">All statuses</option>
            {STATUSES.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </label>
        <label className="sel">
          <span className="sr-only">Sort by</span>
          <select aria-label="Sort by" value={filter.sort} onChange={(e) => set({ sort: e.target.value as SortKey })}>
            {(Object.keys(SORT_LABELS) as SortKey[]).map((k) => (
              <option key={k} value={k}>
                Sort: {SORT_LABELS[k]}
              </option>
            ))}
          </select>
        </label>
        <label className="toggle">
          <input type="checkbox" checked={filter.favoritesOnly} onChange={(e) => set({ favoritesOnly: e.target.checked })} /> Favourites
        </label>
        <label className="toggle">
          <input type="checkbox" checked={filter.showArchived} onChange={(e) => set({ showArchived: e.target.checked })} /> Show archived
          {archivedCount > 0 && <span className="count">{archivedCount}</span>}
        </label>
      </div>

      <p className="sr-only" role="status" aria-live="polite">
        {shown.length} course{shown.length === 1 ? '' : 's'} shown
      </p>

      {shown.length === 0 ? (
        <div className="empty card">
          <h2>No courses match</h2>
          <p>
            {filtered ? 'Nothing fits this search and these filters. ' : ''}
            {!filter.showArchived && archivedCount > 0 ? `${archivedCount} archived course${archivedCount === 1 ? ' is' : 's are'} hidden. ` : ''}
            Try clearing the filters, or add a course.
          </p>
          <div className="empty-actions">
            <button type="button" className="btn" onClick={() => setFilter({ ...DEFAULT_FILTER, sort: filter.sort })}>
              Clear filters
            </button>
            <button type="button" className="btn primary" onClick={() => ui.edit(null)}>
              Add course
            </button>
          </div>
        </div>
      ) : (
        <ul className="course-grid" aria-label="Courses">
          {shown.map((c, i) => (
            <li key={c.id}>
              <CourseCard
                course={c}
                onMove={canMove ? onMove : undefined}
                canMoveUp={i > 0}
                canMoveDown={i < shown.length - 1}
                lastStudied={studied.get(c.id)}
              />
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
