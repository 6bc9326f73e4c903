export function ProgressBar({ value, label, tone }: { value: number; label: string; tone?: 'done' | 'warn' }) {
  const v = Math.max(0, Math.min(100, value));
  return (
    <div className={`progress ${tone ?? ''}`} role="progressbar" aria-valuemin={0} aria-valuemax={100} aria-valuenow={v} aria-label={label}>
      <div className="progress-fill" style={{ width: `${v}%` }} />
    </div>
  );
}
