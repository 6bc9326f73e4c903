import { memo } from 'react';
import type { Course } from '../api/types';
import { useEngine } from '../app/sync-context';
import { useUi } from '../app/ui-context';
import { daysUntil, parseInstant, timeAgo } from '../domain/dates';
import { categoryLabel } from '../domain/stats';
import { Icon } from '../ui/Icon';
import { Notes } from '../ui/Notes';
import { StatusBadge } from '../ui/StatusBadge';
import { duplicate, patchCourse } from './actions';
import { ProgressStepper } from './ProgressStepper';

export function DeadlineText({ course }: { course: Course }) {
  if (!course.deadline || course.status === 'Completed') return null;
  const d = daysUntil(course.deadline);
  if (d === null) return null;
  const cls = d < 0 ? 'deadline overdue' : d <= 7 ? 'deadline soon' : 'deadline';
  const text = d < 0 ? `Overdue by ${-d} day${d === -1 ? '' : 's'}` : d === 0 ? 'Due today' : `${d} day${d === 1 ? '' : 's'} left`;
  return (
    <span className={cls} title={`Deadline ${course.deadline}`}>
      {text}
    </span>
  );
}

/** Memoised: a library of hundreds of cards re-renders only the cards whose course changed. */
export const CourseCard = memo(function CourseCard({
  course,
  onMove,
  canMoveUp,
  canMoveDown,
  lastStudied,
}: {
  course: Course;
  /** From the server's activity log; absent offline or when never studied. */
  lastStudied?: string;
  onMove?: (id: string, dir: -1 | 1) => void;
  canMoveUp?: boolean;
  canMoveDown?: boolean;
}) {
  const engine = useEngine();
  const ui = useUi();
  const c = course;
  const studied = parseInstant(lastStudied);
  const titleId = `course-title-${c.id}`;

  const remove = async () => {
    const ok = await ui.confirm({
      title: 'Delete course?',
      message: `“${c.title}” will be deleted on every device. This cannot be undone.`,
      confirmLabel: 'Delete',
    });
    if (ok) void engine.remove(c.id);
  };
  const archive = async () => {
    if (c.isArchived) return void patchCourse(engine, c, { isArchived: false });
    const ok = await ui.confirm({
      title: 'Archive course?',
      message: `“${c.title}” will be hidden from the library and dashboard. You can show archived courses and restore it any time.`,
      confirmLabel: 'Archive',
    });
    if (ok) void patchCourse(engine, c, { isArchived: true, pinnedToDashboard: false });
  };

  return (
    <article className={`card course-card ${c.isArchived ? 'archived' : ''}`} aria-labelledby={titleId} data-course-id={c.id}>
      <div className="course-top">
        <span className="category-chip">{categoryLabel(c.category)}</span>
        <StatusBadge status={c.status} />
        <span className="spacer" />
        <button
          type="button"
          className={`icon-btn star ${c.isFavorite ? 'on' : ''}`}
          aria-pressed={c.isFavorite}
          aria-label={c.isFavorite ? 'Remove from favourites' : 'Add to favourites'}
          onClick={() => void patchCourse(engine, c, { isFavorite: !c.isFavorite })}
        >
          <Icon name="star" filled={c.isFavorite} />
        </button>
        <button
          type="button"
          className={`icon-btn pin ${c.pinnedToDashboard ? 'on' : ''}`}
          aria-pressed={c.pinnedToDashboard}
          aria-label={c.pinnedToDashboard ? 'Unpin from dashboard' : 'Pin to dashboard'}
          onClick={() => void patchCourse(engine, c, { pinnedToDashboard: !c.pinnedToDashboard })}
        >
          <Icon name="pin" filled={c.pinnedToDashboard} />
        </button>
      </div>
      <h3 id={titleId} className="course-title">
        {c.title}
      </h3>
      <ProgressStepper course={c} engine={engine}>
        <span className="pct" data-testid="progress-value">
          {c.completionRatio}%
        </span>
      </ProgressStepper>
      <div className="meta">
        {c.totalLessons > 0 && (
          <span>
            {c.completedLessons}/{c.totalLessons} lessons
          </span>
        )}
        <DeadlineText course={c} />
        {studied && <span title={lastStudied}>Last studied {timeAgo(studied)}</span>}
        {c.isArchived && <span className="archived-tag">Archived</span>}
      </div>
      {c.notes.trim() !== '' && <Notes text={c.notes} />}
      <div className="card-actions">
        {onMove && (
          <>
            <button type="button" className="icon-btn" aria-label={`Move ${c.title} up`} disabled={!canMoveUp} onClick={() => onMove(c.id, -1)}>
              <Icon name="up" />
            </button>
            <button type="button" className="icon-btn" aria-label={`Move ${c.title} down`} disabled={!canMoveDown} onClick={() => onMove(c.id, 1)}>
              <Icon name="down" />
            </button>
          </>
        )}
        <span className="spacer" />
        <button type="button" className="icon-btn" aria-label={`Edit ${c.title}`} title="Edit" onClick={() => ui.edit(c)}>
          <Icon name="edit" />
        </button>
        <button type="button" className="icon-btn" aria-label={`Duplicate ${c.title}`} title="Duplicate" onClick={() => void duplicate(engine, c)}>
          <Icon name="copy" />
        </button>
        <button type="button" className="icon-btn" aria-label={c.isArchived ? `Restore ${c.title}` : `Archive ${c.title}`} title={c.isArchived ? 'Restore' : 'Archive'} onClick={() => void archive()}>
          <Icon name="archive" />
        </button>
        <button type="button" className="icon-btn danger" aria-label={`Delete ${c.title}`} title="Delete" onClick={() => void remove()}>
          <Icon name="trash" />
        </button>
      </div>
    </article>
  );
});
