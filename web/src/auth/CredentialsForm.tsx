import { useId, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { problemText, type Credentials } from './api';

/**
 * Username and password (and, for a new account, the password again). Errors are
 * announced (role="alert") and the field they concern is marked and focused.
 */
export function CredentialsForm({
  submitLabel,
  newAccount,
  initialUsername = '',
  onSubmit,
  children,
}: {
  submitLabel: string;
  /** A new account: asks for the password twice and says what a username may hold. */
  newAccount: boolean;
  initialUsername?: string;
  onSubmit: (c: Credentials) => Promise<void>;
  children?: ReactNode;
}) {
  const id = useId();
  const [username, setUsername] = useState(initialUsername);
  const [password, setPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const [error, setError] = useState<{ message: string; field: 'username' | 'password' | 'confirm' | null } | null>(null);
  const [busy, setBusy] = useState(false);
  const refs = {
    username: useRef<HTMLInputElement>(null),
    password: useRef<HTMLInputElement>(null),
    confirm: useRef<HTMLInputElement>(null),
  };

  const fail = (message: string, field: 'username' | 'password' | 'confirm' | null) => {
    setError({ message, field });
    if (field) refs[field].current?.focus();
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const name = username.trim().toLowerCase();
    if (!name) return fail('Enter a username.', 'username');
    if (!password) return fail('Enter a password.', 'password');
    if (newAccount) {
      if (!/^[a-z0-9._-]{1,32}$/.test(name)) {
        return fail('Usernames are 1 to 32 characters: lower-case letters, digits, dots, underscores and hyphens.', 'username');
      }
      if (new TextEncoder().encode(password).length < 8) return fail('Use at least 8 characters for the password.', 'password');
      if (password !== confirm) return fail('The two passwords differ.', 'confirm');
    }
    setBusy(true);
    setError(null);
    try {
      await onSubmit({ username: name, password });
    } catch (err) {
      const message = problemText(err);
      const code = (err as { code?: string }).code;
      fail(message, code === 'username_taken' || code === 'invalid_username' ? 'username' : code === 'invalid_password' ? 'password' : null);
    } finally {
      setBusy(false);
    }
  };

  const errId = `${id}-error`;
  const invalid = (f: string) => (error?.field === f ? { 'aria-invalid': true, 'aria-describedby': errId } : {});
  return (
    <form className="auth-form" onSubmit={(e) => void submit(e)} noValidate>
      <div className={`field ${error?.field === 'username' ? 'invalid' : ''}`}>
        <label htmlFor={`${id}-user`}>Username</label>
        <input
          id={`${id}-user`}
          ref={refs.username}
          name="username"
          autoComplete="username"
          autoCapitalize="none"
          spellCheck={false}
          value={username}
          onChange={(e) => setUsername(e.target.value)}
          aria-describedby={newAccount ? `${id}-user-hint` : undefined}
          autoFocus={!initialUsername}
          {...invalid('username')}
        />
        {newAccount && (
          <span id={`${id}-user-hint`} className="muted field-hint">
            Lower-case letters, digits, dots, underscores, hyphens; up to 32.
          </span>
        )}
      </div>
      <div className={`field ${error?.field === 'password' ? 'invalid' : ''}`}>
        <label htmlFor={`${id}-pass`}>Password</label>
        <input
          id={`${id}-pass`}
          ref={refs.password}
          type="password"
          name="password"
          autoComplete={newAccount ? 'new-password' : 'current-password'}
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          autoFocus={!!initialUsername}
          {...invalid('password')}
        />
      </div>
      {newAccount && (
        <div className={`field ${error?.field === 'confirm' ? 'invalid' : ''}`}>
          <label htmlFor={`${id}-confirm`}>Confirm password</label>
          <input
            id={`${id}-confirm`}
            ref={refs.confirm}
            type="password"
            name="confirm-password"
            autoComplete="new-password"
            value={confirm}
            onChange={(e) => setConfirm(e.target.value)}
            {...invalid('confirm')}
          />
        </div>
      )}
      <p id={errId} className="field-error" role="alert" data-testid="auth-error">
        {error?.message ?? ''}
      </p>
      <div className={children ? 'dialog-actions' : 'form-submit'}>
        {children}
        <button type="submit" className="btn primary" disabled={busy}>
          {busy ? 'Please wait…' : submitLabel}
        </button>
      </div>
    </form>
  );
}
