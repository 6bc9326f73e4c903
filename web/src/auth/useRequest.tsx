import { useCallback, useState } from 'react';
import { problemText } from './api';

/** One call at a time from a form or button: busy while it runs, its error in words. */
export function useRequest(): {
  busy: boolean;
  error: string | null;
  setError: (e: string | null) => void;
  run: <T>(fn: () => Promise<T>) => Promise<T | undefined>;
} {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const run = useCallback(async <T,>(fn: () => Promise<T>): Promise<T | undefined> => {
    setBusy(true);
    setError(null);
    try {
      return await fn();
    } catch (e) {
      setError(problemText(e));
      return undefined;
    } finally {
      setBusy(false);
    }
  }, []);
  return { busy, error, setError, run };
}

/** The error line every panel shows: announced when it appears. */
export function ErrorLine({ error, testId }: { error: string | null; testId?: string }) {
  return (
    <p className="field-error" role="alert" data-testid={testId}>
      {error ?? ''}
    </p>
  );
}
