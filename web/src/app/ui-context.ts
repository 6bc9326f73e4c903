import { createContext, useContext } from 'react';
import type { Course } from '../api/types';

export interface ConfirmRequest {
  title: string;
  message: string;
  confirmLabel: string;
}

export interface Ui {
  /** Opens the course dialog: a course to edit, or null for a new one. */
  edit(course: Course | null): void;
  confirm(req: ConfirmRequest): Promise<boolean>;
  toast(message: string): void;
}

export const UiContext = createContext<Ui | null>(null);

export function useUi(): Ui {
  const u = useContext(UiContext);
  if (!u) throw new Error('UiContext missing');
  return u;
}
