// The server's API as the page uses it. The bearer token lives in sessionStorage (gone when the
// tab closes); without one the browser's client certificate (mTLS) is the credential.
const TOKEN_KEY = 'medseal.token';

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export const session = {
  get token() {
    return sessionStorage.getItem(TOKEN_KEY) ?? '';
  },
  set token(value) {
    if (value) sessionStorage.setItem(TOKEN_KEY, value);
    else sessionStorage.removeItem(TOKEN_KEY);
  },
};

// fetch() with the credentials; `headers` adds to them. Resolves to the Response.
export function request(path, { method = 'GET', body, headers = {}, signal } = {}) {
  const h = { ...headers };
  if (session.token) h.Authorization = `Bearer ${session.token}`;
  if (body !== undefined) h['Content-Type'] = 'application/fhir+json';
  return fetch(path, {
    method,
    headers: h,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'same-origin',
    cache: 'no-store',
    signal,
  });
}

// The one-line reason of an error answer (an OperationOutcome's diagnostics, or the text).
async function reasonOf(res) {
  const text = await res.text();
  try {
    return JSON.parse(text).issue?.[0]?.diagnostics ?? `HTTP ${res.status}`;
  } catch {
    return text.trim().slice(0, 200) || `HTTP ${res.status}`;
  }
}

export async function json(path, options) {
  const res = await request(path, options);
  if (!res.ok) throw new ApiError(res.status, await reasonOf(res));
  return res.json();
}

export async function text(path, options) {
  const res = await request(path, options);
  if (!res.ok) throw new ApiError(res.status, await reasonOf(res));
  return res.text();
}

export async function bytes(path, options) {
  const res = await request(path, options);
  if (!res.ok) throw new ApiError(res.status, await reasonOf(res));
  return new Uint8Array(await res.arrayBuffer());
}

// Every resource of a FHIR search, following "next" links (at most `maxPages` pages).
export async function searchAll(path, { maxPages = 20, headers } = {}) {
  const out = [];
  let url = path;
  for (let page = 0; url && page < maxPages; page++) {
    const bundle = await json(url, { headers });
    for (const e of bundle.entry ?? []) if (e.resource) out.push(e.resource);
    const next = (bundle.link ?? []).find((l) => l.relation === 'next')?.url;
    url = next ? new URL(next, location.href).pathname + new URL(next, location.href).search : null;
  }
  return out;
}

// Server-Sent Events read with fetch(), because EventSource cannot send an Authorization
// header. Calls onEvent({id, event, data}) per event; resolves when the stream ends.
export async function readEvents(path, onEvent, signal) {
  const res = await request(path, { headers: { Accept: 'text/event-stream' }, signal });
  if (!res.ok) throw new ApiError(res.status, await reasonOf(res));
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value.replace(/\r\n?/g, '\n');
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = parseEvent(block);
      if (event) onEvent(event);
    }
  }
}

// One SSE block (text/event-stream, WHATWG HTML 9.2.6); null for a comment-only block.
export function parseEvent(block) {
  const event = { id: '', event: 'message', data: '' };
  let hasData = false;
  for (const line of block.split('\n')) {
    if (line === '' || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const name = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (name === 'data') {
      event.data += (hasData ? '\n' : '') + value;
      hasData = true;
    } else if (name === 'id' || name === 'event') {
      event[name] = value;
    }
  }
  return hasData ? event : null;
}
