/**
 * Nothing leaves the browser, enforced inside the page as well as by the CSP: fetch,
 * XMLHttpRequest, navigator.sendBeacon, WebSocket and EventSource refuse any URL outside this
 * page's own origin without issuing a request (blob: and data: URLs never leave the browser).
 *
 * Why: @mediapipe/tasks-vision (1.1.0) builds a usage logger into every task, with no option to
 * turn it off, that POSTs to https://odml.pa.googleapis.com/v1/log every 60 s and when the task
 * closes (vision_bundle.mjs: `setInterval(() => this.flush(), 6e4)`, sent with the global fetch).
 * Until now only the CSP's `connect-src 'self'` stopped it, logging a violation each time. With
 * this guard the logger's fetch is refused in the page, which MediaPipe treats as a send failure
 * that stops its timer; the CSP stays as the second barrier.
 *
 * Importing this module installs the guard on its global scope (page or worker); import it before
 * anything that might send. Where there is no `location` (Node, tests) it does nothing.
 */

const INSTALLED = Symbol.for('emotion-lens.egress-guard');
/** The refused URLs (origin and path only), in order: read by the e2e tests. */
export const BLOCKED = Symbol.for('emotion-lens.egress-blocked');

/** The parts of a global scope the guard replaces (a window or a worker's self). */
export interface GuardedScope {
  location?: { href: string; origin: string; host: string };
  fetch?: typeof fetch;
  XMLHttpRequest?: typeof XMLHttpRequest;
  WebSocket?: typeof WebSocket;
  EventSource?: typeof EventSource;
  navigator?: { sendBeacon?: (url: string | URL, data?: BodyInit | null) => boolean };
  console?: Pick<Console, 'info'>;
}

/** Whether `url` (absolute or relative to `location`) stays in this browser. */
export function staysLocal(url: string | URL, location: NonNullable<GuardedScope['location']>): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url, location.href);
  } catch {
    return true; // not a URL at all: the API itself will reject it, without a request
  }
  if (parsed.protocol === 'blob:' || parsed.protocol === 'data:') return true;
  // Vite's dev server pushes updates over a WebSocket on the page's own host.
  if (parsed.protocol === 'ws:' || parsed.protocol === 'wss:') return parsed.host === location.host;
  return parsed.origin === location.origin;
}

function urlOf(input: RequestInfo | URL): string {
  if (typeof input === 'string') return input;
  if (input instanceof URL) return input.href;
  return input.url;
}

/** Replaces the scope's network APIs by guarded ones; idempotent. Returns the list of refused URLs. */
export function installEgressGuard(scope: GuardedScope & Record<symbol, unknown>): string[] {
  const location = scope.location;
  if (!location) return [];
  if (scope[INSTALLED]) return scope[BLOCKED] as string[];
  scope[INSTALLED] = true;
  const blocked: string[] = [];
  scope[BLOCKED] = blocked;
  const noted = new Set<string>();
  const refuse = (url: string | URL, api: string): string => {
    let shown: string;
    try {
      const u = new URL(url, location.href);
      shown = `${u.origin}${u.pathname}`; // no query: it may carry keys
    } catch {
      shown = String(url);
    }
    blocked.push(shown);
    const origin = shown.replace(/^(\w+:\/\/[^/]+).*$/, '$1');
    if (!noted.has(origin)) {
      noted.add(origin);
      scope.console?.info(`Emotion Lens: refused a ${api} request to ${origin} (nothing leaves this browser).`);
    }
    return `${api} to ${shown} refused: this app sends nothing outside ${location.origin}`;
  };

  const originalFetch = scope.fetch;
  if (originalFetch) {
    scope.fetch = function guardedFetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
      const url = urlOf(input);
      if (!staysLocal(url, location)) return Promise.reject(new TypeError(refuse(url, 'fetch')));
      return originalFetch.call(scope, input, init);
    } as typeof fetch;
  }

  const Xhr = scope.XMLHttpRequest;
  if (Xhr) {
    const open = Xhr.prototype.open as (this: XMLHttpRequest, method: string, url: string | URL, ...rest: unknown[]) => void;
    Xhr.prototype.open = function guardedOpen(this: XMLHttpRequest, method: string, url: string | URL, ...rest: unknown[]): void {
      if (!staysLocal(url, location)) throw new DOMException(refuse(url, 'XMLHttpRequest'), 'NetworkError');
      open.call(this, method, url, ...rest);
    } as typeof Xhr.prototype.open;
  }

  const beacon = scope.navigator?.sendBeacon;
  if (scope.navigator && beacon) {
    const nav = scope.navigator;
    // false is the API's own answer for "not queued".
    nav.sendBeacon = (url: string | URL, data?: BodyInit | null): boolean =>
      staysLocal(url, location) ? beacon.call(nav, url, data) : (refuse(url, 'sendBeacon'), false);
  }

  for (const name of ['WebSocket', 'EventSource'] as const) {
    const Original = scope[name] as (new (url: string | URL, options?: unknown) => object) | undefined;
    if (!Original) continue;
    const Guarded = function (this: unknown, url: string | URL, options?: unknown): object {
      if (!staysLocal(url, location)) throw new DOMException(refuse(url, name), 'SecurityError');
      return new Original(url, options);
    } as unknown as typeof Original;
    Object.setPrototypeOf(Guarded, Original);
    Guarded.prototype = Original.prototype;
    (scope as Record<string, unknown>)[name] = Guarded;
  }
  return blocked;
}

installEgressGuard(globalThis as unknown as GuardedScope & Record<symbol, unknown>);
