import { useRef, useState, type DragEvent } from 'react';
import { useEngine, useSync } from '../app/sync-context';
import { currentBuild } from '../app/update';
import { CalendarFeed } from '../calendar/CalendarFeed';
import { useUi } from '../app/ui-context';
import { sampleCourses } from '../library/samples';
import { downloadExport, importBackup, type ImportOutcome } from '../sync/api';
import { NetworkError } from '../sync/transport';
import { previewFile, type Preview } from './preview';

const PREVIEW_ROWS = 50;

export function DataView() {
  const engine = useEngine();
  const ui = useUi();
  const { courses } = useSync();
  const [preview, setPreview] = useState<Preview | null>(null);
  const [partial, setPartial] = useState(false);
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<ImportOutcome | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const [drag, setDrag] = useState(false);
  const input = useRef<HTMLInputElement>(null);

  const load = async (file: File) => {
    setOutcome(null);
    setFailure(null);
    const text = await file.text();
    setPreview(previewFile(file.name, text));
  };
  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setDrag(false);
    const f = e.dataTransfer.files[0];
    if (f) void load(f);
  };

  const doImport = async () => {
    if (!preview) return;
    setBusy(true);
    setFailure(null);
    try {
      const o = await importBackup(engine.transport, preview.text, preview.kind, partial);
      setOutcome(o);
      if (o.ok) {
        await engine.pull();
        ui.toast(`Imported: ${o.result?.created ?? 0} new, ${o.result?.updated ?? 0} updated`);
      }
    } catch (e) {
      setFailure(e instanceof NetworkError ? 'The server cannot be reached; importing needs a connection. Try again when online.' : String(e));
    } finally {
      setBusy(false);
    }
  };

  const doExport = async (kind: 'json' | 'csv') => {
    try {
      await downloadExport(engine.transport, kind);
    } catch (e) {
      ui.toast(e instanceof NetworkError ? 'Export needs a connection to the server.' : e instanceof Error ? e.message : String(e));
    }
  };

  const bad = preview?.rows.filter((r) => r.errors.length > 0).length ?? 0;
  const good = (preview?.rows.length ?? 0) - bad;

  return (
    <div className="data-view">
      <header className="view-head">
        <div>
          <h1>Import &amp; export</h1>
          <p className="sub">Bring in a CSV export or a SkillTrack JSON backup; take a backup with you.</p>
        </div>
      </header>

      <section className="card panel" aria-labelledby="h-import">
        <h2 id="h-import">Import</h2>
        <div
          className={`dropzone ${drag ? 'drag' : ''}`}
          onDragOver={(e) => {
            e.preventDefault();
            setDrag(true);
          }}
          onDragLeave={() => setDrag(false)}
          onDrop={onDrop}
        >
          <p>
            Drop a <strong>.csv</strong> (Id, Date, Category, Title, Notes, Completion ratio) or <strong>.json</strong> backup here, or
          </p>
          <button type="button" className="btn" onClick={() => input.current?.click()}>
            Choose a file…
          </button>
          <input ref={input} type="file" accept=".csv,.json,text/csv,application/json" className="sr-only" aria-label="Backup file to import" onChange={(e) => e.target.files?.[0] && void load(e.target.files[0])} />
        </div>

        {preview && (
          <div className="preview" aria-live="polite">
            {preview.fatal ? (
              <p className="field-error" role="alert">
                {preview.fileName}: {preview.fatal}
              </p>
            ) : (
              <>
                <p data-testid="preview-summary">
                  <strong>{preview.fileName}</strong>: {preview.rows.length} course{preview.rows.length === 1 ? '' : 's'} found, {good} valid
                  {bad > 0 ? `, ${bad} with problems` : ''}.
                </p>
                <div className="table-wrap">
                  <table>
                    <thead>
                      <tr>
                        <th scope="col">Line</th>
                        <th scope="col">Id</th>
                        <th scope="col">Title</th>
                        <th scope="col">Category</th>
                        <th scope="col">Date</th>
                        <th scope="col">Progress</th>
                        <th scope="col">Problems</th>
                      </tr>
                    </thead>
                    <tbody>
                      {preview.rows.slice(0, PREVIEW_ROWS).map((r) => (
                        <tr key={r.line} className={r.errors.length ? 'row-bad' : ''}>
                          <td>{r.line}</td>
                          <td>{r.course?.id}</td>
                          <td>{r.course?.title}</td>
                          <td>{r.course?.category}</td>
                          <td>{r.course?.date}</td>
                          <td>{r.course?.completionRatio}%</td>
                          <td>{r.errors.join('; ')}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
                {preview.rows.length > PREVIEW_ROWS && <p className="muted">First {PREVIEW_ROWS} of {preview.rows.length} shown.</p>}
                <div className="import-actions">
                  <label className="toggle">
                    <input type="checkbox" checked={partial} onChange={(e) => setPartial(e.target.checked)} /> Import the valid rows even if some fail
                  </label>
                  <button type="button" className="btn primary" disabled={busy || preview.rows.length === 0} onClick={() => void doImport()}>
                    {busy ? 'Importing…' : `Import ${preview.rows.length} course${preview.rows.length === 1 ? '' : 's'}`}
                  </button>
                </div>
              </>
            )}
          </div>
        )}

        {failure && (
          <p className="field-error" role="alert">
            {failure}
          </p>
        )}
        {outcome && (
          <div className={`import-result ${outcome.ok ? 'ok' : 'bad'}`} role="status" data-testid="import-result">
            {outcome.ok ? (
              <p>
                Import done: <strong>{outcome.result?.created ?? 0}</strong> created, <strong>{outcome.result?.updated ?? 0}</strong> updated, <strong>{outcome.result?.skipped ?? 0}</strong> skipped.
              </p>
            ) : (
              <p>
                Nothing was imported: {outcome.message}
                {!partial && outcome.result && outcome.result.errors.length > 0 ? ' Tick “Import the valid rows” to bring in the rest.' : ''}
              </p>
            )}
            {outcome.result && outcome.result.errors.length > 0 && (
              <ul className="row-errors">
                {outcome.result.errors.slice(0, 100).map((e, i) => (
                  <li key={i}>
                    {e.line !== undefined ? `Line ${e.line}` : e.index !== undefined ? `Course #${e.index + 1}` : e.row !== undefined ? `Row ${e.row}` : 'Row'}
                    {e.id ? ` (${e.id})` : ''}
                    {e.field ? `, ${e.field}` : ''}: {e.message}
                  </li>
                ))}
              </ul>
            )}
          </div>
        )}
      </section>

      <section className="card panel" aria-labelledby="h-export">
        <h2 id="h-export">Export</h2>
        <p className="muted">A full JSON backup (courses and settings) restores everything; the CSV opens in a spreadsheet.</p>
        <div className="empty-actions">
          <button type="button" className="btn" onClick={() => void doExport('json')}>
            Export JSON backup
          </button>
          <button type="button" className="btn" onClick={() => void doExport('csv')}>
            Export CSV
          </button>
        </div>
      </section>

      <CalendarFeed />

      {courses.length === 0 && (
        <section className="card panel" aria-labelledby="h-samples">
          <h2 id="h-samples">Just looking?</h2>
          <p className="muted">Load a few sample courses to see how SkillTrack works. Delete them any time.</p>
          <button type="button" className="btn" onClick={() => void engine.upsertMany(sampleCourses())}>
            Load sample courses
          </button>
        </section>
      )}

      <p className="muted app-version" data-testid="app-version">
        SkillTrack {__APP_VERSION__}
        {currentBuild() ? ` · build ${currentBuild()}` : ''}
      </p>
    </div>
  );
}
