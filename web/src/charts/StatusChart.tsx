import type { Status } from '../api/types';

const CLASS: Record<Status, string> = { Pending: 'pending', 'In Progress': 'progress', 'Up Next': 'next', Completed: 'done' };

/** A donut of the status breakdown with a legend that carries the numbers. */
export function StatusChart({ rows, onPick }: { rows: { status: Status; count: number }[]; onPick?: (s: Status) => void }) {
  const total = rows.reduce((a, r) => a + r.count, 0);
  const R = 42;
  const C = 2 * Math.PI * R;
  let offset = 0;
  return (
    <figure className="chart status-chart">
      <svg viewBox="0 0 110 110" role="img" aria-label={`Status breakdown: ${rows.map((r) => `${r.status} ${r.count}`).join(', ')}`}>
        <circle className="track" cx={55} cy={55} r={R} fill="none" strokeWidth={14} />
        {total > 0 &&
          rows.map((r) => {
            const len = (r.count / total) * C;
            const el = (
              <circle
                key={r.status}
                className={`seg seg-${CLASS[r.status]}`}
                cx={55}
                cy={55}
                r={R}
                fill="none"
                strokeWidth={14}
                strokeDasharray={`${len} ${C - len}`}
                strokeDashoffset={-offset}
                transform="rotate(-90 55 55)"
              />
            );
            offset += len;
            return el;
          })}
        <text className="donut-total" x={55} y={58} textAnchor="middle">
          {total}
        </text>
      </svg>
      <ul className="legend">
        {rows.map((r) => (
          <li key={r.status}>
            <button type="button" className="legend-btn" onClick={onPick ? () => onPick(r.status) : undefined}>
              <span className={`dot dot-${CLASS[r.status]}`} aria-hidden="true" />
              {r.status}
              <strong>{r.count}</strong>
            </button>
          </li>
        ))}
      </ul>
    </figure>
  );
}
