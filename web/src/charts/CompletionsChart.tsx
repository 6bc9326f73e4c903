import { monthLabel } from '../domain/dates';

/** Completions per month as bars, with the monthly goal as a dashed line. */
export function CompletionsChart({ series, goal }: { series: { key: string; count: number }[]; goal: number }) {
  const W = 360;
  const H = 160;
  const pad = { l: 22, r: 6, t: 10, b: 22 };
  const max = Math.max(goal, ...series.map((s) => s.count), 1);
  const iw = W - pad.l - pad.r;
  const ih = H - pad.t - pad.b;
  const bw = iw / series.length;
  const y = (v: number) => pad.t + ih - (v / max) * ih;
  const ticks = max <= 4 ? Array.from({ length: max + 1 }, (_, i) => i) : [0, Math.round(max / 2), max];
  const total = series.reduce((a, s) => a + s.count, 0);
  return (
    <figure className="chart">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`Completions per month, last ${series.length} months: ${series.map((s) => `${monthLabel(s.key)} ${s.count}`).join(', ')}. Goal ${goal} a month.`}>
        {ticks.map((t) => (
          <g key={t}>
            <line className="grid" x1={pad.l} x2={W - pad.r} y1={y(t)} y2={y(t)} />
            <text className="axis" x={pad.l - 5} y={y(t) + 3} textAnchor="end">
              {t}
            </text>
          </g>
        ))}
        {series.map((s, i) => {
          const x = pad.l + i * bw + bw * 0.18;
          const h = pad.t + ih - y(s.count);
          const met = s.count >= goal && goal > 0;
          return (
            <g key={s.key}>
              <rect className={met ? 'bar met' : 'bar'} x={x} y={y(s.count)} width={bw * 0.64} height={Math.max(h, 0)} rx={2}>
                <title>{`${monthLabel(s.key)} ${s.key.slice(0, 4)}: ${s.count}`}</title>
              </rect>
              <text className="axis" x={x + bw * 0.32} y={H - 7} textAnchor="middle">
                {monthLabel(s.key).slice(0, 1)}
              </text>
            </g>
          );
        })}
        {goal > 0 && <line className="goal-line" x1={pad.l} x2={W - pad.r} y1={y(goal)} y2={y(goal)} />}
      </svg>
      <figcaption>
        {total} completed in 12 months · dashed line: goal of {goal}/month
      </figcaption>
    </figure>
  );
}
