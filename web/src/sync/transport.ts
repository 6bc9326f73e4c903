// The only place that talks HTTP. Everything above it gets {status, body} or a
// NetworkError, so "the server said no" and "the server is unreachable" never blur.

export const TOKEN_KEY = 'skilltrack_api_token';

export class NetworkError extends Error {
  constructor(cause: unknown) {
    super(`network error: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'NetworkError';
  }
}

export interface ApiResponse {
  status: number;
  body: unknown;
  headers: Headers;
}

export interface TokenStore {
  get(): string | null;
  set(token: string | null): void;
}

export function localStorageTokens(): TokenStore {
  return {
    get: () => {
      try {
        return globalThis.localStorage?.getItem(TOKEN_KEY) ?? null;
      } catch {
        return null;
      }
    },
    set: (t) => {
      try {
        if (t) globalThis.localStorage?.setItem(TOKEN_KEY, t);
        else globalThis.localStorage?.removeItem(TOKEN_KEY);
      } catch {
        /* storage may be disabled; the token then lives for this page only */
      }
    },
  };
}

export function memoryTokens(initial: string | null = null): TokenStore {
  let t = initial;
  return { get: () => t, set: (v) => (t = v) };
}

export interface RequestOptions {
  method?: string;
  headers?: Record<string, string>;
  json?: unknown;
  body?: BodyInit;
  /** Read the body as text rather than JSON. */
  text?: boolean;
  blob?: boolean;
}

export class Transport {
  constructor(
    readonly baseUrl: string,
    readonly tokens: TokenStore,
    private readonly fetchImpl: typeof fetch = (...a) => globalThis.fetch(...a),
  ) {}

  async request(path: string, opts: RequestOptions = {}): Promise<ApiResponse> {
    const headers: Record<string, string> = { Accept: 'application/json', ...opts.headers };
    const token = this.tokens.get();
    if (token) headers.Authorization = `Bearer ${token}`;
    let body = opts.body;
    if (opts.json !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(opts.json);
    }
    let res: Response;
    try {
      res = await this.fetchImpl(this.baseUrl + path, { method: opts.method ?? 'GET', headers, body, cache: 'no-store' });
    } catch (e) {
      throw new NetworkError(e);
    }
    let parsed: unknown = null;
    try {
      if (opts.blob && res.ok) parsed = await res.blob();
      else {
        const text = await res.text();
        if (opts.text && res.ok) parsed = text;
        else if (text) {
          try {
            parsed = JSON.parse(text);
          } catch {
            parsed = text;
          }
        }
      }
    } catch (e) {
      throw new NetworkError(e);
    }
    return { status: res.status, body: parsed, headers: res.headers };
  }
}

export function errorMessage(body: unknown, fallback: string): string {
  if (body && typeof body === 'object' && 'error' in body) {
    const e = (body as { error: unknown }).error;
    if (e && typeof e === 'object' && 'message' in e) return String((e as { message: unknown }).message);
    if (typeof e === 'string') return e;
  }
  return fallback;
}

export function errorField(body: unknown): string | undefined {
  if (body && typeof body === 'object' && 'error' in body) {
    const e = (body as { error: unknown }).error;
    if (e && typeof e === 'object' && 'field' in e) return String((e as { field: unknown }).field);
  }
  return undefined;
}
