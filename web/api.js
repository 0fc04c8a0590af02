// The service's public HTTP API, called with the token the user entered.
// The API lives where the console does, less its /console suffix, so the
// console works behind a proxy that mounts the service below a prefix.
const base = location.pathname.replace(/\/console\/?$/, '');
const TOKEN_KEY = 'streamq.token';

export const enc = encodeURIComponent;

export function token() {
  return sessionStorage.getItem(TOKEN_KEY) || '';
}

export function setToken(value) {
  if (value) sessionStorage.setItem(TOKEN_KEY, value);
  else sessionStorage.removeItem(TOKEN_KEY);
}

let unauthorized = () => {};
// `handler(err)` runs on every 401: the console asks for a token again.
export function onUnauthorized(handler) {
  unauthorized = handler;
}

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.title || `HTTP ${status}`);
    this.status = status;
    this.title = problem.title || `HTTP ${status}`;
    this.detail = problem.detail || '';
    this.code = problem.code || '';
  }
}

export function headers(extra = {}) {
  const h = { Accept: 'application/json', ...extra };
  const t = token();
  if (t) h.Authorization = `Bearer ${t}`;
  return h;
}

export function url(path, query = {}) {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') qs.set(k, String(v));
  const s = qs.toString();
  return base + path + (s ? `?${s}` : '');
}

// The problem a failed response carries (RFC 9457), or one made of its status.
export async function failure(res) {
  let text = '';
  try {
    text = await res.text();
  } catch (e) {
    if (e.name === 'AbortError') throw e; // the view closed: nothing to report
  }
  let problem = null;
  try {
    problem = JSON.parse(text);
  } catch {
    problem = null;
  }
  if (!problem || typeof problem !== 'object') problem = { title: res.statusText || `HTTP ${res.status}`, detail: text.slice(0, 300) };
  const err = new ApiError(res.status, problem);
  if (res.status === 401) unauthorized(err);
  return err;
}

export async function call(method, path, { query, body, signal } = {}) {
  let res;
  try {
    res = await fetch(url(path, query), {
      method,
      headers: headers(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
      body: body !== undefined ? JSON.stringify(body) : undefined,
      signal,
      cache: 'no-store',
    });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, { title: 'The service did not answer', detail: e.message });
  }
  if (!res.ok) throw await failure(res);
  if (res.status === 204) return null;
  return res.json();
}

export const get = (path, query, signal) => call('GET', path, { query, signal });

// Every item of a list by name (streams, queues, webhooks), following
// next_after for at most `pages` pages; `more` tells whether it stopped early.
export async function listAll(path, key, signal, pages = 5) {
  const items = [];
  let after;
  for (let i = 0; i < pages; i++) {
    const page = await get(path, { limit: 1000, after }, signal);
    items.push(...page[key]);
    after = page.next_after;
    if (!after) return { items, more: false };
  }
  return { items, more: true };
}
