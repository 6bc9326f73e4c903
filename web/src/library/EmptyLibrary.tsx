import { useEngine } from '../app/sync-context';
import { useUi } from '../app/ui-context';
import { sampleCourses } from './samples';

export function EmptyLibrary({ onImport }: { onImport?: () => void }) {
  const engine = useEngine();
  const ui = useUi();
  return (
    <section className="empty card welcome" aria-labelledby="empty-heading">
      <h1 id="empty-heading">Your library is empty</h1>
      <p>Add the courses you own to track progress, deadlines and a monthly goal on every device.</p>
      <div className="empty-actions">
        <button type="button" className="btn primary" onClick={() => ui.edit(null)}>
          Add your first course
        </button>
        <button type="button" className="btn" onClick={() => void engine.upsertMany(sampleCourses())}>
          Load sample courses
        </button>
        {onImport ? (
          <button type="button" className="btn" onClick={onImport}>
            Import CSV or JSON
          </button>
        ) : (
          <a className="btn" href="#/data">
            Import CSV or JSON
          </a>
        )}
      </div>
    </section>
  );
}

export function Loading() {
  return (
    <p className="loading muted" role="status">
      Loading your courses…
    </p>
  );
}
