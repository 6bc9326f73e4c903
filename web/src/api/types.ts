// The wire types of the SkillTrack HTTP API (docs/api.md; checked against component/api/openapi.json).
// scripts/check-api.mjs compares these field lists with component/api/openapi.json,
// so a renamed or added server field fails the check instead of drifting silently.

export const STATUSES = ['Pending', 'In Progress', 'Up Next', 'Completed'] as const;
export type Status = (typeof STATUSES)[number];

/** Fields the client edits; the three-way merge works on exactly these. */
export const EDITABLE_FIELDS = [
  'title',
  'category',
  'date',
  'notes',
  'completionRatio',
  'status',
  'isFavorite',
  'totalLessons',
  'completedLessons',
  'deadline',
  'sortOrder',
  'pinnedToDashboard',
  'isArchived',
] as const;
export type EditableField = (typeof EDITABLE_FIELDS)[number];

/** Fields the server manages; the client only reads them. */
export const SERVER_FIELDS = ['rev', 'createdAt', 'updatedAt', 'completedAt'] as const;

export const COURSE_FIELDS = ['id', ...EDITABLE_FIELDS, ...SERVER_FIELDS] as const;

export interface Course {
  id: string;
  title: string;
  category: string;
  date: string;
  notes: string;
  completionRatio: number;
  status: Status;
  isFavorite: boolean;
  totalLessons: number;
  completedLessons: number;
  deadline: string | null;
  sortOrder: number;
  pinnedToDashboard: boolean;
  isArchived: boolean;
  rev: number;
  createdAt: string;
  updatedAt: string;
  completedAt: string | null;
}

export interface ApiErrorBody {
  error: { code: string; message: string; field?: string };
}

export interface ImportRowError {
  row?: number;
  line?: number;
  /** JSON backups: the position in `courses`. */
  index?: number;
  id?: string;
  field?: string;
  message: string;
  code?: string;
}

export interface ImportResult {
  created: number;
  updated: number;
  skipped: number;
  errors: ImportRowError[];
}

export interface ActivityEntry {
  id?: number;
  courseId: string;
  action: string;
  at: string;
  title?: string;
  detail?: unknown;
}

/** `GET /api/calendar/token`: whether a calendar feed link exists (its token is not shown again). */
export interface FeedTokenStatus {
  active: boolean;
  createdAt: string | null;
}

/** `POST /api/calendar/token`: a new feed link; the one time its token is shown. */
export interface FeedTokenCreated {
  active: true;
  createdAt: string;
  token: string;
  /** `/api/calendar.ics?token=...` */
  path: string;
  url: string | null;
}
