// The REST API of ferryd (docs/api.md), as the console calls it.
//
// The token lives in this tab's sessionStorage under one key and nowhere else: not in a URL
// (it would land in history and logs), not in localStorage (it would outlive the tab), not in a
// cookie (the server does not read cookies, and a cookie would ride along on every request).
// Errors come back as ApiError carrying the HTTP status and the server's own message, which
// names the field or state at fault and is shown to the user as it is.

const TOKEN_KEY = 'ferry.token';
const BASE = '/api/v1';

export function getToken() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(token) {
  sessionStorage.setItem(TOKEN_KEY, token);
}

export function forgetToken() {
  sessionStorage.removeItem(TOKEN_KEY);
}

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.name = 'ApiError';
    this.status = status; // 0 when the server could not be reached
    this.code = code; // the server's "error" word: invalid-input, forbidden, conflict, …
  }
}

// Told when the server refuses the token (401), whatever page asked: the app goes back to
// sign-in. One listener, set by app.js.
let onUnauthenticated = () => {};
export function setUnauthenticatedHandler(fn) {
  onUnauthenticated = fn;
}

// GET a JSON resource. `query` is an object of parameters, encoded here so no page pastes
// values into a URL by hand.
export function get(path, {query, signal} = {}) {
  return request('GET', withQuery(path, query), {signal});
}

// POST a JSON body (or none when body is undefined).
export function post(path, body, {signal} = {}) {
  return request('POST', path, {body: body === undefined ? undefined : JSON.stringify(body), type: 'application/json', signal});
}

function withQuery(path, query) {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') params.set(k, String(v));
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

// Path segments from the server or the URL (names, ids) are encoded, so "a/b" stays one segment.
export function seg(value) {
  return encodeURIComponent(String(value));
}

async function request(method, path, {body, type, signal} = {}) {
  const headers = {Accept: 'application/json'};
  const token = getToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = type;
  let response;
  try {
    response = await fetch(BASE + path, {method, headers, body, signal, cache: 'no-store', credentials: 'omit'});
  } catch (err) {
    if (err.name === 'AbortError') throw err;
    throw new ApiError(0, 'network', `the server could not be reached (${err.message})`);
  }
  return handle(response.status, await response.text());
}

// Turns a status and body into the parsed answer or an ApiError.
function handle(status, text) {
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (status >= 200 && status < 300) {
    if (json === null) throw new ApiError(status, 'bad-answer', 'the server sent an answer that is not JSON');
    return json;
  }
  const message = json && typeof json.message === 'string' ? json.message : `HTTP ${status}${text ? ': ' + text.slice(0, 200) : ''}`;
  const error = new ApiError(status, json && json.error ? json.error : 'http', message);
  if (status === 401) onUnauthenticated(error);
  throw error;
}

// Uploads a file as the raw body of POST /api/v1/objects, reporting progress (fetch cannot
// report upload progress; XMLHttpRequest can). Resolves to {"id", "size", "created"}.
export function uploadObject(file, onProgress = () => {}) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', BASE + '/objects');
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.setRequestHeader('Content-Type', 'application/octet-stream');
    const token = getToken();
    if (token) xhr.setRequestHeader('Authorization', `Bearer ${token}`);
    xhr.upload.addEventListener('progress', (e) => onProgress(e.loaded, e.lengthComputable ? e.total : file.size));
    xhr.addEventListener('load', () => {
      try {
        resolve(handle(xhr.status, xhr.responseText));
      } catch (err) {
        reject(err);
      }
    });
    xhr.addEventListener('error', () => reject(new ApiError(0, 'network', 'the upload was cut off: the server could not be reached')));
    xhr.addEventListener('abort', () => reject(new ApiError(0, 'aborted', 'the upload was stopped')));
    xhr.send(file);
  });
}
