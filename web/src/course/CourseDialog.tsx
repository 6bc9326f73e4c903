import { useEffect, useMemo, useState, type FormEvent } from 'react';
import type { Course, Status } from '../api/types';
import { STATUSES } from '../api/types';
import { useEngine, useSync } from '../app/sync-context';
import { blankCourse, validateCourse, type FieldError } from '../domain/course';
import { Dialog } from '../ui/Dialog';
import { saveEdit } from './actions';

interface Form {
  title: string;
  category: string;
  date: string;
  deadline: string;
  notes: string;
  completionRatio: string;
  status: Status;
  totalLessons: string;
  completedLessons: string;
  isFavorite: boolean;
  pinnedToDashboard: boolean;
}

function toForm(c: Course): Form {
  return {
    title: c.title,
    category: c.category,
    date: c.date,
    deadline: c.deadline ?? '',
    notes: c.notes,
    completionRatio: String(c.completionRatio),
    status: c.status,
    totalLessons: String(c.totalLessons),
    completedLessons: String(c.completedLessons),
    isFavorite: c.isFavorite,
    pinnedToDashboard: c.pinnedToDashboard,
  };
}

const num = (s: string) => (s.trim() === '' ? 0 : Number(s));

export function CourseDialog({ course, open, onClose }: { course: Course | null; open: boolean; onClose: () => void }) {
  const engine = useEngine();
  const { courses } = useSync();
  const [draft, setDraft] = useState<Course>(() => course ?? blankCourse());
  const [form, setForm] = useState<Form>(() => toForm(draft));
  const [errors, setErrors] = useState<FieldError[]>([]);

  useEffect(() => {
    if (!open) return;
    const start = course ?? { ...blankCourse(), sortOrder: courses.reduce((m, c) => Math.max(m, c.sortOrder + 1), 0) };
    setDraft(start);
    setForm(toForm(start));
    setErrors([]);
    // Only when the dialog opens for a course; later pulls must not reset typing.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [open, course?.id]);

  const categories = useMemo(() => [...new Set(courses.map((c) => c.category).filter(Boolean))].sort(), [courses]);

  const set = <K extends keyof Form>(k: K, v: Form[K]) => setForm((f) => ({ ...f, [k]: v }));
  const err = (field: string) => errors.find((e) => e.field === field)?.message;

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const latest = course ? (engine.course(course.id) ?? draft) : draft;
    const next: Course = {
      ...latest,
      title: form.title.trim(),
      category: form.category.trim(),
      date: form.date,
      deadline: form.deadline === '' ? null : form.deadline,
      notes: form.notes,
      completionRatio: num(form.completionRatio),
      status: form.status,
      totalLessons: num(form.totalLessons),
      completedLessons: num(form.completedLessons),
      isFavorite: form.isFavorite,
      pinnedToDashboard: form.pinnedToDashboard,
    };
    const problems = validateCourse(next);
    setErrors(problems);
    if (problems.length > 0) return;
    void saveEdit(engine, course ? latest : null, next);
    onClose();
  };

  const field = (id: keyof Form, label: string, input: JSX.Element, apiField: string = id) => (
    <div className={`field ${err(apiField) ? 'invalid' : ''}`}>
      <label htmlFor={`f-${id}`}>{label}</label>
      {input}
      {err(apiField) && (
        <p className="field-error" id={`f-${id}-err`} role="alert">
          {err(apiField)}
        </p>
      )}
    </div>
  );
  const aria = (f: string) => (err(f) ? { 'aria-invalid': true, 'aria-describedby': `f-${f}-err` } : {});

  return (
    <Dialog open={open} onClose={onClose} title={course ? 'Edit course' : 'Add course'}>
      <form className="course-form" onSubmit={submit} noValidate>
        {field('title', 'Title', <input id="f-title" value={form.title} onChange={(e) => set('title', e.target.value)} autoFocus {...aria('title')} />)}
        <div className="row2">
          {field(
            'category',
            'Category',
            <>
              <input id="f-category" list="category-list" value={form.category} onChange={(e) => set('category', e.target.value)} />
              <datalist id="category-list">
                {categories.map((c) => (
                  <option key={c} value={c} />
                ))}
              </datalist>
            </>,
          )}
          {field(
            'status',
            'Status',
            <select id="f-status" value={form.status} onChange={(e) => set('status', e.target.value as Status)}>
              {STATUSES.map((s) => (
                <option key={s}>{s}</option>
              ))}
            </select>,
          )}
        </div>
        <div className="row2">
          {field('completionRatio', 'Progress (%)', <input id="f-completionRatio" type="number" inputMode="numeric" min={0} max={100} step={1} value={form.completionRatio} onChange={(e) => set('completionRatio', e.target.value)} {...aria('completionRatio')} />)}
          {field('date', 'Purchase date', <input id="f-date" type="date" value={form.date} onChange={(e) => set('date', e.target.value)} {...aria('date')} />)}
        </div>
        <div className="row2">
          {field('totalLessons', 'Total lessons', <input id="f-totalLessons" type="number" min={0} step={1} value={form.totalLessons} onChange={(e) => set('totalLessons', e.target.value)} {...aria('totalLessons')} />)}
          {field('completedLessons', 'Lessons done', <input id="f-completedLessons" type="number" min={0} step={1} value={form.completedLessons} onChange={(e) => set('completedLessons', e.target.value)} {...aria('completedLessons')} />)}
        </div>
        {field('deadline', 'Deadline (optional)', <input id="f-deadline" type="date" value={form.deadline} onChange={(e) => set('deadline', e.target.value)} {...aria('deadline')} />)}
        {field('notes', 'Notes', <textarea id="f-notes" rows={3} value={form.notes} onChange={(e) => set('notes', e.target.value)} placeholder="Links and thoughts; http(s) links become clickable" />)}
        <div className="checks">
          <label>
            <input type="checkbox" checked={form.isFavorite} onChange={(e) => set('isFavorite', e.target.checked)} /> Favourite
          </label>
          <label>
            <input type="checkbox" checked={form.pinnedToDashboard} onChange={(e) => set('pinnedToDashboard', e.target.checked)} /> Pin to dashboard
          </label>
        </div>
        {errors.some((e) => e.field === 'id') && <p className="field-error">{err('id')}</p>}
        <div className="dialog-actions">
          <button type="button" className="btn" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="btn primary">
            {course ? 'Save changes' : 'Add course'}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
