// An in-memory stand-in for medseal's FHIR API (DESIGN.md section 6), just enough for
// smoke.mjs: metadata, create, read, update with If-Match, vread, history, search by patient,
// transaction with urn:uuid references, bearer tokens. It exists to test smoke.mjs itself
// (smoke_selftest.mjs), healthy and with faults injected; it is not a FHIR server.
//
// Faults, by name:
//   ignore-if-match    updates succeed whatever If-Match says
//   invalid-read       reads return the Patient with an element R4 does not define
//   no-ledger-index    responses lack X-Medseal-Ledger-Index

import http from 'node:http';
import { randomUUID } from 'node:crypto';

const FHIR_JSON = 'application/fhir+json';

/** Starts listening on 127.0.0.1 at a free port; resolves to { base, close() }. */
export function startMockServer({ token, faults = [] }) {
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      const reply = handle(state, req, body);
      const headers = { 'Content-Type': FHIR_JSON, ...reply.headers };
      if (reply.ledger && !faults.includes('no-ledger-index')) headers['X-Medseal-Ledger-Index'] = String(state.ledger++);
      res.writeHead(reply.status, headers);
      res.end(JSON.stringify(reply.body));
    });
  });
  const state = { token, faults, records: new Map(), ledger: 0 };
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve({
        base: `http://127.0.0.1:${server.address().port}/fhir`,
        close: () => new Promise((done) => server.close(done)),
      });
    });
  });
}

function outcome(status, code, diagnostics) {
  return { status, body: { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code, diagnostics }] } };
}

function handle(state, req, text) {
  const url = new URL(req.url, 'http://mock');
  const parts = url.pathname.split('/').filter(Boolean);
  if (parts.shift() !== 'fhir') return outcome(404, 'not-found', 'not under /fhir');
  if (req.method === 'GET' && parts[0] === 'metadata' && parts.length === 1) return { status: 200, body: capability() };
  if (req.headers.authorization !== `Bearer ${state.token}`) return outcome(401, 'login', 'no valid bearer token');
  let input;
  try {
    input = text ? JSON.parse(text) : null;
  } catch {
    return outcome(400, 'structure', 'body is not JSON');
  }
  const [type, id, history, version] = parts;
  const route = `${req.method} ${parts.length}${history ? ` ${history}` : ''}`;
  switch (route) {
    case 'POST 0': return transaction(state, input);
    case 'POST 1': return { ...create(state, type, input, randomUUID()), ledger: true };
    case 'GET 1': return search(state, type, url.searchParams);
    case 'GET 2': return read(state, type, id);
    case 'PUT 2': return update(state, type, id, input, req.headers['if-match']);
    case 'GET 3 _history': return historyOf(state, type, id);
    case 'GET 4 _history': return vread(state, type, id, version);
    default: return outcome(404, 'not-supported', `${req.method} ${url.pathname}`);
  }
}

function capability() {
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: '2024-01-01',
    kind: 'instance',
    fhirVersion: '4.0.1',
    format: [FHIR_JSON],
    rest: [{ mode: 'server' }],
  };
}

function stored(version) {
  return { status: version.meta.versionId === '1' ? 201 : 200, body: version, headers: { ETag: `W/"${version.meta.versionId}"` } };
}

function create(state, type, resource, id) {
  const version = { ...resource, id, meta: { versionId: '1', lastUpdated: new Date().toISOString() } };
  state.records.set(`${type}/${id}`, [version]);
  const reply = stored(version);
  reply.headers.Location = `/fhir/${type}/${id}/_history/1`;
  return reply;
}

function read(state, type, id) {
  const versions = state.records.get(`${type}/${id}`);
  if (!versions) return outcome(404, 'not-found', `${type}/${id}`);
  const latest = versions[versions.length - 1];
  const body = state.faults.includes('invalid-read') ? { ...latest, favouriteColour: 'green' } : latest;
  return { ...stored(body), status: 200, ledger: true };
}

function update(state, type, id, resource, ifMatch) {
  const versions = state.records.get(`${type}/${id}`);
  if (!versions) return outcome(404, 'not-found', `${type}/${id}`);
  const current = versions.length;
  if (ifMatch !== undefined && ifMatch !== `W/"${current}"` && !state.faults.includes('ignore-if-match')) {
    return outcome(412, 'conflict', `version is ${current}`);
  }
  const version = { ...resource, id, meta: { versionId: String(current + 1), lastUpdated: new Date().toISOString() } };
  versions.push(version);
  return { ...stored(version), ledger: true };
}

function vread(state, type, id, versionId) {
  const version = state.records.get(`${type}/${id}`)?.[Number(versionId) - 1];
  if (!version) return outcome(404, 'not-found', `${type}/${id}/_history/${versionId}`);
  return { ...stored(version), status: 200, ledger: true };
}

function historyOf(state, type, id) {
  const versions = state.records.get(`${type}/${id}`);
  if (!versions) return outcome(404, 'not-found', `${type}/${id}`);
  const entry = [...versions].reverse().map((resource) => ({
    fullUrl: `http://mock/fhir/${type}/${id}`,
    resource,
    request: { method: resource.meta.versionId === '1' ? 'POST' : 'PUT', url: resource.meta.versionId === '1' ? type : `${type}/${id}` },
    response: { status: resource.meta.versionId === '1' ? '201 Created' : '200 OK', etag: `W/"${resource.meta.versionId}"` },
  }));
  return { status: 200, body: { resourceType: 'Bundle', type: 'history', total: entry.length, entry }, ledger: true };
}

function search(state, type, params) {
  const patient = params.get('patient');
  if (!patient || [...params.keys()].length !== 1) return outcome(400, 'not-supported', 'only ?patient=');
  const hits = [...state.records.entries()]
    .filter(([key]) => key.startsWith(`${type}/`))
    .map(([, versions]) => versions[versions.length - 1])
    .filter((resource) => resource.subject?.reference === patient);
  const entry = hits.map((resource) => ({ fullUrl: `http://mock/fhir/${type}/${resource.id}`, resource, search: { mode: 'match' } }));
  return { status: 200, body: { resourceType: 'Bundle', type: 'searchset', total: entry.length, entry }, ledger: true };
}

function transaction(state, bundle) {
  if (bundle?.resourceType !== 'Bundle' || bundle.type !== 'transaction') return outcome(400, 'invalid', 'not a transaction Bundle');
  const assigned = new Map(bundle.entry.map((entry) => [entry.fullUrl, `${entry.resource.resourceType}/${randomUUID()}`]));
  const resolve = (node) => {
    if (Array.isArray(node)) return node.map(resolve);
    if (node === null || typeof node !== 'object') return node;
    return Object.fromEntries(
      Object.entries(node).map(([key, value]) => [key, key === 'reference' && assigned.has(value) ? assigned.get(value) : resolve(value)]),
    );
  };
  const entry = bundle.entry.map((item) => {
    const [type, id] = assigned.get(item.fullUrl).split('/');
    create(state, type, resolve(item.resource), id);
    return { response: { status: '201 Created', location: `${type}/${id}/_history/1`, etag: 'W/"1"' } };
  });
  return { status: 200, body: { resourceType: 'Bundle', type: 'transaction-response', entry }, ledger: true };
}
