import type { ReactNode } from 'react';
import type { Course } from '../api/types';
import type { SyncEngine } from '../sync/engine';
import { ProgressBar } from '../ui/ProgressBar';
import { bumpProgress } from './actions';

/** A course's progress bar with the quick -5 / +5 steps, as cards and the dashboard show it;
 * `children` follow in the same row. */
export function ProgressStepper({ course: c, engine, children }: { course: Course; engine: SyncEngine; children?: ReactNode }) {
  return (
    <div className="progress-row">
      <button type="button" className="step-btn" aria-label={`Decrease progress of ${c.title} by 5`} onClick={() => void bumpProgress(engine, c, -5)} disabled={c.completionRatio <= 0}>
        −5
      </button>
      <ProgressBar value={c.completionRatio} label={`Progress of ${c.title}`} tone={c.completionRatio >= 100 ? 'done' : undefined} />
      <button type="button" className="step-btn" aria-label={`Increase progress of ${c.title} by 5`} onClick={() => void bumpProgress(engine, c, 5)} disabled={c.completionRatio >= 100}>
        +5
      </button>
      {children}
    </div>
  );
}
