#!/usr/bin/env node
// Smoke test of a running medseal FHIR R4 API with a real client nobody here wrote
// (fhir-kit-client); every response body also passes the official R4 JSON schema and FHIR.js
// (fhir_validate.mjs).
//
// Usage (stable; a C++ test runs it against a server it started):
//   node smoke.mjs --base http://127.0.0.1:PORT/fhir --token TOKEN [--shared DIR]
//     --base    the FHIR base URL
//     --token   a bearer token allowed to create and read Patients and Observations and to post
//               transactions
//     --shared  the shared data folder (default: ../shared beside the project root)
// Prints `ok   STEP: detail` per step; at the first failure prints `FAIL STEP: reason` and
// exits 1. Exit 2: bad usage or missing npm packages. Exit 0: every step passed.
//
// Steps, in order, each on what the previous ones created:
//   metadata     GET metadata: a CapabilityStatement, fhirVersion 4.0.1
//   create       POST Patient (the official Patient-example, without id) -> 201, id, version 1
//   read         GET Patient/id -> version 1, the same resource
//   update       PUT with If-Match: W/"1" -> 200, version 2; a read then says version 2
//   stale-update PUT with If-Match: W/"1" again -> 412 with an OperationOutcome
//   vread        GET Patient/id/_history/1 -> version 1 as first written
//   history      GET Patient/id/_history -> Bundle history, 2 entries, newest first
//   search       POST Observation for the patient, GET Observation?patient=Patient/id finds it
//   transaction  POST the smallest Synthea transaction Bundle -> transaction-response, one 201
//                per entry; the Patient and one resource referring to it read back, with the
//                urn:uuid reference resolved to the new Patient
//   no-token     GET Patient/id without a token -> 401 with an OperationOutcome
//
// What every successful response must carry (DESIGN.md section 6): Content-Type
// application/fhir+json; ETag W/"N" matching meta.versionId for single resources; Location
// <base path>/Type/id/_history/N on create; X-Medseal-Ledger-Index, a decimal leaf index larger
// than that of the response before it (each record interaction appends to the ledger; metadata
// is not required to). Error responses must be OperationOutcomes.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { createValidator, formatErrors, isValid } from './fhir_validate.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const USAGE = 'usage: node smoke.mjs --base http://127.0.0.1:PORT/fhir --token TOKEN [--shared DIR]';

function parseArgs(argv) {
  const args = { base: null, token: null, shared: path.resolve(here, '../../../shared') };
  for (let i = 0; i < argv.length; i++) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (flag === '--help' || flag === '-h') usage(0);
    if (!['--base', '--token', '--shared'].includes(flag) || value === undefined) usage(2, `bad argument ${flag}`);
    args[flag.slice(2)] = value;
    i++;
  }
  if (!args.base || !args.token) usage(2, '--base and --token are required');
  args.base = args.base.replace(/\/+$/, '');
  return args;
}

function usage(status, reason) {
  if (reason) console.error(`smoke: ${reason}`);
  console.error(USAGE);
  process.exit(status);
}

class StepFailure extends Error {}

function expect(condition, message) {
  if (!condition) throw new StepFailure(message);
}

async function step(name, body) {
  try {
    const detail = await body();
    console.log(`ok   ${name}${detail ? `: ${detail}` : ''}`);
  } catch (err) {
    console.log(`FAIL ${name}: ${describeFailure(err)}`);
    process.exit(1);
  }
}

function describeFailure(err) {
  if (err instanceof StepFailure || !err.response) return err.message;
  // fhir-kit-client throws { response: { status, data } } for an HTTP error.
  const { status, data } = err.response;
  const issue = data?.resourceType === 'OperationOutcome' ? data.issue?.[0] : null;
  const said = issue ? `${issue.code}: ${issue.diagnostics ?? issue.details?.text ?? ''}` : JSON.stringify(data).slice(0, 200);
  return `unexpected HTTP ${status} (${said})`;
}

function readJson(file) {
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

/** The smallest transaction Bundle in DIR: quickest to post, still a whole patient. */
function smallestBundle(dir) {
  const files = fs.readdirSync(dir).filter((name) => name.endsWith('.json'));
  expect(files.length > 0, `no Synthea bundles in ${dir}`);
  const sized = files.map((name) => ({ name, size: fs.statSync(path.join(dir, name)).size }));
  sized.sort((a, b) => a.size - b.size);
  return { name: sized[0].name, bundle: readJson(path.join(dir, sized[0].name)) };
}

/** The Type/id/_history/N a location (absolute URL or path) names, or null. */
function parseLocation(location) {
  const match = /(?:^|\/)([A-Z][A-Za-z]+)\/([A-Za-z0-9.-]{1,64})\/_history\/(\d+)$/.exec(location ?? '');
  return match ? { type: match[1], id: match[2], version: match[3] } : null;
}

// Judges HTTP exchanges: status, headers, body validity, ledger index order.
class Checker {
  constructor(Client, basePath) {
    this.Client = Client;
    this.basePath = basePath;
    this.validate = createValidator();
    this.lastLedgerIndex = -1n;
  }

  body(what, resource) {
    const errors = this.validate(resource);
    expect(isValid(errors), `${what} is not valid FHIR R4: ${formatErrors(errors)}`);
  }

  /** Checks a successful response; returns its headers. */
  ok(result, { status, ledger = true }) {
    const { response } = this.Client.httpFor(result);
    expect(response.status === status, `HTTP ${response.status}, expected ${status}`);
    this.contentType(response.headers);
    if (ledger) this.ledgerIndex(response.headers);
    this.body('response body', result);
    return response.headers;
  }

  /** Checks a failed request's error: the status and an OperationOutcome body. */
  error(err, status) {
    expect(err.response, `request failed without an HTTP response: ${err.message}`);
    expect(err.response.status === status, `HTTP ${err.response.status}, expected ${status}`);
    const headers = err.config?.headers;
    if (headers) this.contentType(headers);
    expect(err.response.data?.resourceType === 'OperationOutcome', `HTTP ${status} body is not an OperationOutcome`);
    this.body(`HTTP ${status} body`, err.response.data);
  }

  contentType(headers) {
    const type = headers.get('content-type') ?? '';
    expect(type.startsWith('application/fhir+json'), `Content-Type ${JSON.stringify(type)}, expected application/fhir+json`);
  }

  ledgerIndex(headers) {
    const value = headers.get('x-medseal-ledger-index');
    expect(/^\d{1,20}$/.test(value ?? ''), `X-Medseal-Ledger-Index ${JSON.stringify(value)} is not a leaf index`);
    const index = BigInt(value);
    expect(index > this.lastLedgerIndex, `X-Medseal-Ledger-Index ${index} is not after ${this.lastLedgerIndex}`);
    this.lastLedgerIndex = index;
  }

  /** ETag W/"N" and meta.versionId N for a single resource; returns N. */
  version(headers, resource, want) {
    const etag = headers.get('etag');
    expect(etag === `W/"${want}"`, `ETag ${JSON.stringify(etag)}, expected W/"${want}"`);
    expect(resource.meta?.versionId === want, `meta.versionId ${JSON.stringify(resource.meta?.versionId)}, expected "${want}"`);
  }

  location(headers, type, id, version) {
    const location = headers.get('location');
    const pathname = location ? new URL(location, 'http://base.invalid').pathname : null;
    const want = `${this.basePath}/${type}/${id}/_history/${version}`;
    expect(pathname === want, `Location ${JSON.stringify(location)}, expected ${want}`);
  }
}

/** Every element we sent comes back unchanged (the server adds id and meta only). */
function expectSameContent(sent, got, what) {
  for (const [key, value] of Object.entries(sent)) {
    if (key === 'id' || key === 'meta') continue;
    expect(isDeepStrictEqual(got[key], value), `${what}: element ${key} differs from what was sent`);
  }
}

async function loadClient() {
  try {
    return (await import('fhir-kit-client')).Client;
  } catch (err) {
    if (err.code !== 'ERR_MODULE_NOT_FOUND') throw err;
    console.error(`smoke: npm package fhir-kit-client is missing: run 'npm ci' in ${here} (scripts/install-deps.sh does)`);
    process.exit(2);
  }
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const Client = await loadClient();
  const examples = path.join(args.shared, 'data', 'fhir-r4-examples');
  const synthea = path.join(args.shared, 'data', 'synthea');
  let check;
  try {
    check = new Checker(Client, new URL(args.base).pathname);
  } catch (err) {
    console.error(`smoke: ${err.message}`);
    process.exit(2);
  }
  const client = new Client({ baseUrl: args.base, customHeaders: { Authorization: `Bearer ${args.token}` } });
  const ifMatch = (version) => ({ headers: { 'If-Match': `W/"${version}"` } });

  await step('metadata', async () => {
    const capability = await client.capabilityStatement();
    check.ok(capability, { status: 200, ledger: false });
    expect(capability.resourceType === 'CapabilityStatement', `got a ${capability.resourceType}`);
    expect(capability.fhirVersion === '4.0.1', `fhirVersion ${JSON.stringify(capability.fhirVersion)}`);
    return `CapabilityStatement, FHIR ${capability.fhirVersion}`;
  });

  // The official example, less its id and its reference to an Organization the server lacks.
  const { id: _exampleId, managingOrganization: _org, ...patientIn } = readJson(path.join(examples, 'Patient-example.json'));
  let patient;
  await step('create', async () => {
    patient = await client.create({ resourceType: 'Patient', body: patientIn });
    const headers = check.ok(patient, { status: 201 });
    expect(patient.resourceType === 'Patient' && typeof patient.id === 'string', 'no Patient with an id came back');
    check.version(headers, patient, '1');
    check.location(headers, 'Patient', patient.id, '1');
    expectSameContent(patientIn, patient, 'created Patient');
    return `Patient/${patient.id}, ledger index ${check.lastLedgerIndex}`;
  });
  const id = patient.id;

  await step('read', async () => {
    const read = await client.read({ resourceType: 'Patient', id });
    check.version(check.ok(read, { status: 200 }), read, '1');
    expect(isDeepStrictEqual(read, patient), 'the Patient read differs from the one created');
    return `Patient/${id} version 1`;
  });

  const updated = { ...patient, active: !patient.active };
  delete updated.meta;
  await step('update', async () => {
    const result = await client.update({ resourceType: 'Patient', id, body: updated, options: ifMatch(1) });
    check.version(check.ok(result, { status: 200 }), result, '2');
    expect(result.active === updated.active, 'the update was not applied');
    const read = await client.read({ resourceType: 'Patient', id });
    check.version(check.ok(read, { status: 200 }), read, '2');
    return `If-Match W/"1" -> version 2`;
  });

  await step('stale-update', async () => {
    try {
      await client.update({ resourceType: 'Patient', id, body: { ...updated, gender: 'other' }, options: ifMatch(1) });
    } catch (err) {
      check.error(err, 412);
      return 'If-Match W/"1" on version 2 -> 412 OperationOutcome';
    }
    throw new StepFailure('a stale If-Match was accepted');
  });

  await step('vread', async () => {
    const first = await client.vread({ resourceType: 'Patient', id, version: '1' });
    check.version(check.ok(first, { status: 200 }), first, '1');
    expect(isDeepStrictEqual(first, patient), 'version 1 differs from what was created');
    return `Patient/${id}/_history/1`;
  });

  await step('history', async () => {
    const history = await client.resourceHistory({ resourceType: 'Patient', id });
    check.ok(history, { status: 200 });
    expect(history.resourceType === 'Bundle' && history.type === 'history', 'not a history Bundle');
    const versions = (history.entry ?? []).map((entry) => entry.resource?.meta?.versionId);
    expect(isDeepStrictEqual(versions, ['2', '1']), `versions ${JSON.stringify(versions)}, expected ["2","1"]`);
    return 'Bundle history, versions 2, 1';
  });

  await step('search', async () => {
    const { id: _obsId, encounter: _enc, ...observationIn } = readJson(path.join(examples, 'Observation-example.json'));
    observationIn.subject = { reference: `Patient/${id}` };
    const observation = await client.create({ resourceType: 'Observation', body: observationIn });
    check.ok(observation, { status: 201 });
    const found = await client.search({ resourceType: 'Observation', searchParams: { patient: `Patient/${id}` } });
    check.ok(found, { status: 200 });
    expect(found.resourceType === 'Bundle' && found.type === 'searchset', 'not a searchset Bundle');
    const hits = (found.entry ?? []).map((entry) => entry.resource);
    expect(hits.some((hit) => hit?.id === observation.id), `Observation/${observation.id} not found`);
    expect(hits.every((hit) => hit?.subject?.reference === `Patient/${id}`), 'a hit is not about the patient');
    return `Observation?patient=Patient/${id}: ${hits.length} hit(s)`;
  });

  await step('transaction', async () => {
    const { name, bundle } = smallestBundle(synthea);
    const result = await client.transaction({ body: bundle });
    check.ok(result, { status: 200 });
    expect(result.resourceType === 'Bundle' && result.type === 'transaction-response', 'not a transaction-response Bundle');
    const entries = result.entry ?? [];
    expect(entries.length === bundle.entry.length, `${entries.length} response entries for ${bundle.entry.length} requests`);
    entries.forEach((entry, i) => {
      expect(/^201\b/.test(entry.response?.status ?? ''), `entry ${i}: status ${JSON.stringify(entry.response?.status)}`);
      expect(parseLocation(entry.response?.location), `entry ${i}: location ${JSON.stringify(entry.response?.location)}`);
    });
    await readBack(client, check, bundle, entries);
    return `${name}: ${entries.length} entries created, read back`;
  });

  await step('no-token', async () => {
    const anonymous = new Client({ baseUrl: args.base });
    try {
      await anonymous.read({ resourceType: 'Patient', id });
    } catch (err) {
      check.error(err, 401);
      return '401 OperationOutcome';
    }
    throw new StepFailure('a read without a token was answered');
  });
}

/** Reads back the transaction's Patient and a resource that referred to it by urn:uuid. */
async function readBack(client, check, bundle, entries) {
  const created = (i) => parseLocation(entries[i].response.location);
  const patientAt = bundle.entry.findIndex((entry) => entry.resource?.resourceType === 'Patient');
  expect(patientAt >= 0, 'the bundle holds no Patient');
  const where = created(patientAt);
  const patient = await client.read({ resourceType: 'Patient', id: where.id });
  check.ok(patient, { status: 200 });
  expectSameContent(bundle.entry[patientAt].resource, patient, 'Patient from the transaction');

  const patientUrl = bundle.entry[patientAt].fullUrl;
  const referrerAt = bundle.entry.findIndex((entry) => entry.resource?.subject?.reference === patientUrl);
  expect(referrerAt >= 0, `no entry refers to ${patientUrl}`);
  const { type, id } = created(referrerAt);
  const referrer = await client.read({ resourceType: type, id });
  check.ok(referrer, { status: 200 });
  expect(
    referrer.subject?.reference === `Patient/${where.id}`,
    `${type}/${id} subject ${JSON.stringify(referrer.subject?.reference)}, expected Patient/${where.id}`,
  );
}

main().catch((err) => {
  console.log(`FAIL smoke: ${err.stack ?? err}`);
  process.exit(1);
});
