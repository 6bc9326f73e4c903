import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { Course } from '../api/types';
import { CourseDialog } from '../course/CourseDialog';
import { AccountMenu } from '../auth/AccountMenu';
import { AccountPage } from '../auth/AccountPage';
import { inviteTokenFromLocation } from '../auth/api';
import { PeoplePage } from '../auth/PeoplePage';
import { useSession } from '../auth/session-context';
import { SessionEndedDialog } from '../auth/SessionEndedDialog';
import { TeamPage } from '../auth/TeamPage';
import { Dashboard } from '../dashboard/Dashboard';
import { DataView } from '../import/DataView';
import { Library } from '../library/Library';
import { categoryCounts, DEFAULT_FILTER, type LibraryFilter } from '../library/filter';
import { ConfirmDialog } from '../ui/Dialog';
import { Icon } from '../ui/Icon';
import { SyncIndicator } from './SyncIndicator';
import { useEngine, useSync } from './sync-context';
import { TokenDialog } from './TokenDialog';
import { useTheme } from './theme';
import { UiContext, type ConfirmRequest, type Ui } from './ui-context';

type View = 'dashboard' | 'library' | 'data' | 'team' | 'people' | 'account';

/** Which views this person has: the account pages only with accounts, People only for admins. */
function allowedViews(session: { account: { isAdmin: boolean } } | null): View[] {
  const views: View[] = ['dashboard', 'library', 'data'];
  if (session) views.push('team', 'account');
  if (session?.account.isAdmin) views.push('people');
  return views;
}

function viewFromHash(allowed: View[]): View {
  const h = location.hash.replace(/^#\/?/, '');
  if (courseFromHash()) return 'library';
  return (allowed as string[]).includes(h) ? (h as View) : 'dashboard';
}

/** `#/course/<id>`: the link the calendar feed gives each course. */
function courseFromHash(): string | null {
  const m = /^#\/course\/([A-Za-z0-9_-]+)$/.exec(location.hash);
  return m ? m[1] : null;
}

/** `updated`: this start runs a new version of the app (see app/update.ts). */
export function App({ updated = false }: { updated?: boolean }) {
  const engine = useEngine();
  const session = useSession();
  const allowed = useMemo(() => allowedViews(session), [session]);
  const { courses, notices } = useSync();
  const [view, setView] = useState<View>(() => viewFromHash(allowed));
  const [filter, setFilter] = useState<LibraryFilter>(DEFAULT_FILTER);
  const [theme, chooseTheme] = useTheme();
  const [editing, setEditing] = useState<{ open: boolean; course: Course | null }>({ open: false, course: null });
  const [confirmReq, setConfirmReq] = useState<(ConfirmRequest & { resolve: (ok: boolean) => void }) | null>(null);
  const [toasts, setToasts] = useState<{ id: number; message: string }[]>([]);
  const toastSeq = useRef(0);
  const main = useRef<HTMLElement>(null);
  const [showUpdated, setShowUpdated] = useState(updated);
  const [linkedCourse, setLinkedCourse] = useState<string | null>(courseFromHash);

  useEffect(() => {
    const onHash = () => {
      setView(viewFromHash(allowed));
      setLinkedCourse(courseFromHash());
    };
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, [allowed]);

  // A course link opens that course once it is in the local copy (at once on a
  // device that has it, after the first pull on a new one).
  useEffect(() => {
    if (!linkedCourse) return;
    const course = courses.find((c) => c.id === linkedCourse);
    if (!course) return;
    setLinkedCourse(null);
    history.replaceState(null, '', '#/library');
    setEditing({ open: true, course });
  }, [linkedCourse, courses]);

  const go = useCallback((v: View) => {
    location.hash = `#/${v}`;
    setView(v);
    main.current?.focus({ preventScroll: true });
    window.scrollTo(0, 0);
  }, []);

  const toast = useCallback((message: string) => {
    const id = ++toastSeq.current;
    setToasts((t) => [...t, { id, message }]);
    setTimeout(() => setToasts((t) => t.filter((x) => x.id !== id)), 5000);
  }, []);

  // An invite link opened while signed in (on arrival or in this tab): it is for someone new.
  const signedInAs = session?.account.username ?? null;
  useEffect(() => {
    if (!signedInAs) return;
    const check = () => {
      if (!inviteTokenFromLocation()) return;
      history.replaceState(null, '', '/#/dashboard');
      toast(`You are signed in as ${signedInAs}. To use the invite link for a new account, sign out and open it again.`);
    };
    check();
    window.addEventListener('hashchange', check);
    return () => window.removeEventListener('hashchange', check);
  }, [signedInAs, toast]);

  const ui: Ui = useMemo(
    () => ({
      edit: (course) => setEditing({ open: true, course }),
      confirm: (req) => new Promise<boolean>((resolve) => setConfirmReq({ ...req, resolve })),
      toast,
    }),
    [toast],
  );

  const openLibrary = (patch: Partial<LibraryFilter>) => {
    setFilter((f) => ({ ...f, ...patch }));
    go('library');
  };

  const cats = useMemo(() => categoryCounts(courses, filter.showArchived), [courses, filter.showArchived]);
  const activeCount = courses.filter((c) => filter.showArchived || !c.isArchived).length;

  const nav: { id: View; label: string; icon: string }[] = [
    { id: 'dashboard', label: 'Dashboard', icon: 'home' },
    { id: 'library', label: 'Library', icon: 'book' },
    { id: 'data', label: 'Import & export', icon: 'data' },
  ];
  // On phones these live in the account menu; the bottom bar keeps its three places.
  const sideNav: { id: View; label: string; icon: string }[] = [
    ...nav,
    ...(session ? [{ id: 'team' as View, label: 'Team', icon: 'users' }] : []),
    ...(session?.account.isAdmin ? [{ id: 'people' as View, label: 'People', icon: 'users' }] : []),
  ];

  return (
    <UiContext.Provider value={ui}>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <div className="shell">
        <aside className="sidebar" aria-label="Sidebar">
          <div className="brand">
            <span className="logo" aria-hidden="true">
              <Icon name="check" />
            </span>
            SkillTrack
          </div>
          <nav aria-label="Main">
            <ul className="nav-list">
              {sideNav.map((n) => (
                <li key={n.id}>
                  <a href={`#/${n.id}`} className={`nav-item ${view === n.id ? 'active' : ''}`} aria-current={view === n.id ? 'page' : undefined} onClick={(e) => { e.preventDefault(); if (n.id === 'library') setFilter((f) => ({ ...f, category: null })); go(n.id); }}>
                    <Icon name={n.icon} /> {n.label}
                  </a>
                </li>
              ))}
            </ul>
          </nav>
          <nav aria-label="Categories" className="cat-nav">
            <h2 className="side-head">Categories</h2>
            <ul className="nav-list">
              <li>
                <button type="button" className={`nav-item ${view === 'library' && filter.category === null ? 'active' : ''}`} onClick={() => openLibrary({ category: null })}>
                  All courses <span className="count">{activeCount}</span>
                </button>
              </li>
              {cats.map((c) => (
                <li key={c.category}>
                  <button type="button" className={`nav-item ${view === 'library' && filter.category === c.category ? 'active' : ''}`} aria-current={view === 'library' && filter.category === c.category ? 'true' : undefined} onClick={() => openLibrary({ category: c.category })}>
                    <span className="cat-name">{c.category}</span> <span className="count">{c.count}</span>
                  </button>
                </li>
              ))}
            </ul>
          </nav>
        </aside>

        <div className="content">
          <header className="topbar">
            <div className="brand mobile-only">
              <span className="logo" aria-hidden="true">
                <Icon name="check" />
              </span>
              <span className="brand-name">SkillTrack</span>
            </div>
            <span className="spacer" />
            <SyncIndicator />
            {session && <SessionEndedDialog />}
            <button type="button" className="icon-btn" onClick={() => chooseTheme(theme === 'dark' ? 'light' : 'dark')} aria-label={theme === 'dark' ? 'Switch to light theme' : 'Switch to dark theme'} title="Toggle theme">
              <Icon name={theme === 'dark' ? 'sun' : 'moon'} />
            </button>
            <button type="button" className="btn primary add-top" onClick={() => ui.edit(null)}>
              <Icon name="plus" /> <span className="hide-sm">Add course</span>
            </button>
            {session && <AccountMenu go={go} />}
          </header>

          <main id="main" ref={main} tabIndex={-1}>
            {view === 'dashboard' && <Dashboard openLibrary={openLibrary} />}
            {view === 'library' && <Library filter={filter} setFilter={setFilter} />}
            {view === 'data' && <DataView />}
            {view === 'team' && session && <TeamPage />}
            {view === 'people' && session?.account.isAdmin && <PeoplePage />}
            {view === 'account' && session && <AccountPage />}
          </main>
        </div>
      </div>

      <nav className="bottom-nav" aria-label="Main (mobile)">
        {nav.map((n) => (
          <a key={n.id} href={`#/${n.id}`} className={view === n.id ? 'active' : ''} aria-current={view === n.id ? 'page' : undefined} onClick={(e) => { e.preventDefault(); go(n.id); }}>
            <Icon name={n.icon} size={20} />
            <span>{n.id === 'data' ? 'Data' : n.label}</span>
          </a>
        ))}
      </nav>

      <CourseDialog open={editing.open} course={editing.course} onClose={() => setEditing({ open: false, course: null })} />
      <ConfirmDialog
        open={confirmReq !== null}
        title={confirmReq?.title ?? ''}
        message={confirmReq?.message ?? ''}
        confirmLabel={confirmReq?.confirmLabel ?? 'OK'}
        onConfirm={() => {
          confirmReq?.resolve(true);
          setConfirmReq(null);
        }}
        onCancel={() => {
          confirmReq?.resolve(false);
          setConfirmReq(null);
        }}
      />
      {!session && <TokenDialog />}

      <div className="toasts" aria-live="polite">
        {showUpdated && (
          <div className="toast update" role="status" data-testid="update-notice">
            <span>Updated to the new version</span>
            <button type="button" className="icon-btn" aria-label="Dismiss" onClick={() => setShowUpdated(false)}>
              ×
            </button>
          </div>
        )}
        {notices.map((n) => (
          <div key={`n${n.id}`} className="toast conflict" role="alert" data-testid="conflict-notice">
            <span>{n.message}</span>
            <button type="button" className="icon-btn" aria-label="Dismiss" onClick={() => engine.dismissNotice(n.id)}>
              ×
            </button>
          </div>
        ))}
        {toasts.map((t) => (
          <div key={`t${t.id}`} className="toast" role="status">
            {t.message}
          </div>
        ))}
      </div>
    </UiContext.Provider>
  );
}
