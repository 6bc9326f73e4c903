import { useCallback, useEffect, useState } from 'react';
import { ProgressBar } from '../ui/ProgressBar';
import { fetchTeam, type TeamMember } from './api';
import { useSignedIn } from './session-context';
import { ErrorLine, useRequest } from './useRequest';

function MemberCard({ m }: { m: TeamMember }) {
  const goalMet = m.monthlyGoal > 0 && m.completedThisMonth >= m.monthlyGoal;
  return (
    <li>
      <article className="card panel member" aria-labelledby={`member-${m.username}`} data-testid="team-member">
        <h2 id={`member-${m.username}`}>{m.username}</h2>
        <dl className="member-stats">
          <div>
            <dt>This month</dt>
            <dd>
              {m.completedThisMonth} of {m.monthlyGoal} {goalMet ? '✓' : ''}
            </dd>
          </div>
          <div>
            <dt>This year</dt>
            <dd>{m.completedThisYear} completed</dd>
          </div>
        </dl>
        <h3 className="member-sub">Studying now</h3>
        {m.studying.length === 0 ? (
          <p className="muted">Nothing in progress.</p>
        ) : (
          <ul className="mini-list">
            {m.studying.map((s, i) => (
              <li key={`${s.title}-${i}`} className="mini">
                <span className="mini-title">{s.title}</span>
                <div className="progress-row">
                  <ProgressBar value={s.completionRatio} label={`${m.username}: ${s.title} progress`} tone={s.completionRatio >= 100 ? 'done' : undefined} />
                  <span className="pct">{s.completionRatio}%</span>
                </div>
              </li>
            ))}
          </ul>
        )}
      </article>
    </li>
  );
}

/** `#/team`: the people who share their progress. */
export function TeamPage() {
  const { transport, account } = useSignedIn();
  const [members, setMembers] = useState<TeamMember[] | null>(null);
  const { busy, error, run } = useRequest();
  const refresh = useCallback(() => run(async () => setMembers(await fetchTeam(transport))), [run, transport]);
  useEffect(() => {
    void refresh();
  }, [refresh]);

  return (
    <div className="team-view">
      <div className="view-head">
        <div>
          <h1>Team</h1>
          <p className="sub">
            Everyone who shares their progress.{' '}
            {account.shareProgress ? 'You share yours.' : 'You do not share yours; turn it on in your account.'}
          </p>
        </div>
        <button type="button" className="btn" disabled={busy} onClick={() => void refresh()}>
          Refresh
        </button>
      </div>
      <ErrorLine error={error} />
      {members && members.length === 0 && (
        <p className="muted" data-testid="team-empty">
          Nobody shares their progress yet.
        </p>
      )}
      {members && members.length > 0 && (
        <ul className="member-grid" aria-label="Team members">
          {members.map((m) => (
            <MemberCard key={m.username} m={m} />
          ))}
        </ul>
      )}
    </div>
  );
}
