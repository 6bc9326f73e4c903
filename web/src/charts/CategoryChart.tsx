import type { CategoryProgress } from '../domain/stats';

/** Average progress per category as horizontal bars (the largest categories first). */
export function CategoryChart({ rows, onPick }: { rows: CategoryProgress[]; onPick?: (category: string) => void }) {
  const top = rows.slice(0, 7);
  const rowH = 24;
  const W = 360;
  const labelW = 120;
  const H = top.length * rowH + 4;
  if (top.length === 0) return <p className="muted">No categories yet.</p>;
  return (
    <figure className="chart">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`Average progress by category: ${top.map((r) => `${r.category} ${r.averageProgress}% of ${r.count}`).join(', ')}`}>
        {top.map((r, i) => {
          const y = i * rowH + 2;
          const bw = ((W - labelW - 48) * r.averageProgress) / 100;
          const name = r.category.length > 17 ? `${r.category.slice(0, 16)}…` : r.category;
          return (
            <g key={r.category} className={onPick ? 'clickable' : ''} onClick={onPick ? () => onPick(r.category) : undefined}>
              <text className="label" x={0} y={y + 15}>
                {name}
                <title>{r.category}</title>
              </text>
              <rect className="track" x={labelW} y={y + 5} width={W - labelW - 48} height={12} rx={6} />
              <rect className="bar" x={labelW} y={y + 5} width={Math.max(bw, 0)} height={12} rx={6} />
              <text className="axis" x={W - 2} y={y + 15} textAnchor="end">
                {r.averageProgress}% · {r.count}
              </text>
            </g>
          );
        })}
      </svg>
      {rows.length > top.length && <figcaption>{rows.length - top.length} smaller categories not shown</figcaption>}
    </figure>
  );
}
