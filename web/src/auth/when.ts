/** A date and time in the person's own format, or a word when there is none. */
export function when(iso: string | null | undefined, none = 'never'): string {
  if (!iso) return none;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}
