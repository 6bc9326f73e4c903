import type { Course } from '../api/types';
import { useEngine } from '../app/sync-context';
import { monthKey, parseInstant, timeAgo } from '../domain/dates';
import { goalProgress } from '../domain/stats';
import { ProgressBar } from '../ui/ProgressBar';

const STATE_TEXT = { met: 'Goal reached', 'on-track': 'On track', behind: 'Behind' } as const;

export function GoalTracker({ courses, goal }: { courses: Course[]; goal: number }) {
  const engine = useEngine();
  const g = goalProgress(courses, goal);
  const setGoal = (n: number) => void engine.setSetting('monthly_goal', Math.max(0, Math.min(99, n)));
  const now = new Date();
  const month = now.toLocaleString('en', { month: 'long' });
  const thisMonth = courses
    .filter((c) => c.status === 'Completed' && !c.isArchived)
    .map((c) => ({ c, at: parseInstant(c.completedAt) }))
    .filter((x): x is { c: Course; at: Date } => x.at !== null && monthKey(x.at) === monthKey(now))
    .sort((a, b) => b.at.getTime() - a.at.getTime());
  return (
    <section className="card panel goal" aria-labelledby="h-goal">
      <h2 id="h-goal">Monthly goal · {month}</h2>
      <div className="goal-main">
        <div className="goal-count" data-testid="goal-count">
          <strong>{g.completed}</strong> / {goal}
          <span className="muted"> completed</span>
        </div>
        <div className="goal-edit" role="group" aria-label="Monthly goal">
          <button type="button" className="step-btn" aria-label="Lower monthly goal" onClick={() => setGoal(goal - 1)} disabled={goal <= 0}>
            −
          </button>
          <span className="goal-value" aria-live="polite" data-testid="goal-value">
            {goal}
          </span>
          <button type="button" className="step-btn" aria-label="Raise monthly goal" onClick={() => setGoal(goal + 1)}>
            +
          </button>
        </div>
      </div>
      <ProgressBar value={goal > 0 ? (g.completed / goal) * 100 : 100} label="Monthly goal progress" tone={g.state === 'met' ? 'done' : g.state === 'behind' ? 'warn' : undefined} />
      <p className={`goal-state state-${g.state}`}>
        <strong>{STATE_TEXT[g.state]}</strong>{' '}
        {g.state === 'met'
          ? `— ${g.completed} of ${goal} done with ${g.daysInMonth - g.day} day${g.daysInMonth - g.day === 1 ? '' : 's'} to spare.`
          : `— day ${g.day} of ${g.daysInMonth}: ${g.remaining} more to finish this month (pace says ${Math.floor(g.expectedByNow)} by today).`}
      </p>
      {thisMonth.length > 0 && (
        <div className="goal-done">
          <h3>Completed this month</h3>
          <ul className="plain-list">
            {thisMonth.slice(0, 4).map(({ c, at }) => (
              <li key={c.id}>
                <span className="mini-title">{c.title}</span>
                <span className="muted">{timeAgo(at, now)}</span>
              </li>
            ))}
          </ul>
          {thisMonth.length > 4 && <p className="muted">and {thisMonth.length - 4} more</p>}
        </div>
      )}
    </section>
  );
}
