// The collector's JSON API, on the web session's cookie: every change carries the CSRF token the
// session gave us (the cookie itself is HttpOnly; this page never sees it).
let csrf = null;

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && csrf) headers['X-CSRF-Token'] = csrf;
  const response = await fetch(path, {
    method, headers, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 204) return null;
  const text = await response.text();
  const json = text ? JSON.parse(text) : null;
  if (!response.ok) throw new ApiError(response.status, json?.error?.message ?? response.statusText);
  return json;
}

export async function currentSession() {
  try {
    const session = await api('GET', '/api/v1/auth/session');
    csrf = session.csrf_token;
    return session;
  } catch (error) {
    if (error.status === 401) return null;
    throw error;
  }
}

export async function signIn(username, password) {
  const session = await api('POST', '/api/v1/auth/session', { username, password });
  csrf = session.csrf_token;
  return session;
}

export async function signOut() {
  await api('DELETE', '/api/v1/auth/session');
  csrf = null;
}

/// The path of a call's resource, its interaction id percent-encoded.
export function callPath(call, rest = '') {
  const query = call.integration ? `?integration=${encodeURIComponent(call.integration)}` : '';
  return `/api/v1/calls/${encodeURIComponent(call.interaction_id)}${rest}${query}`;
}
