// The portal in a real browser: Debian's chromium driven by playwright-core, against a real
// `medseal serve` (with a witness and the demo data of scripts/demo-identities.sh). Screenshots of
// each main view go to --artifacts DIR.
// Usage: node browser_test.mjs --medseal BINARY --source DIR --artifacts DIR
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { arg, startMedseal, api } from './medseal.mjs';

const medseal = arg('--medseal');
const source = arg('--source', new URL('../..', import.meta.url).pathname);
const artifacts = arg('--artifacts', join(process.cwd(), 'portal-screenshots'));
const chromiumPath = arg('--chromium', '/usr/bin/chromium');

// Flags that keep the browser off the network: no background services, and every host name
// resolves to nothing but 127.0.0.1, where the server is.
const OFFLINE_ARGS = [
  '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--disable-default-apps', '--disable-domain-reliability', '--disable-breakpad', '--no-first-run',
  '--no-pings', '--disable-client-side-phishing-detection', '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
];

let server;
let browser;

before(async () => {
  mkdirSync(artifacts, { recursive: true });
  server = await startMedseal({ binary: medseal, source });
  browser = await chromium.launch({ executablePath: chromiumPath, args: OFFLINE_ARGS });
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

// A new page (its own sessionStorage) with the JavaScript errors it raises collected.
async function newPage(viewport = { width: 1280, height: 900 }) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(e.message));
  // The browser logs every 4xx answer (401 before sign-in, 403 before break-glass): not errors.
  page.on('console', (m) => m.type() === 'error' && !/^Failed to load resource/.test(m.text()) && page.errors.push(m.text()));
  return page;
}

// Signs in with the keyboard: type the token, press Enter.
async function signIn(page, token) {
  await page.goto(server.url + '/');
  await page.locator('#token').waitFor();
  await page.keyboard.type(token);
  await page.keyboard.press('Enter');
}

const shot = (page, name, fullPage = true) => page.screenshot({ path: join(artifacts, `${name}.png`), fullPage });

test('the page is served with a strict CSP, nosniff and no caching of data', async () => {
  const res = await fetch(server.url + '/');
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-security-policy'), /default-src 'self'/);
  assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
  const js = await fetch(server.url + '/portal/js/verify.js');
  assert.match(js.headers.get('content-type'), /^text\/javascript/);
  const who = await fetch(server.url + '/portal/whoami', { headers: { Authorization: `Bearer ${server.token('patient')}` } });
  assert.deepEqual(await who.json(), { name: 'mari.maasikas', patient: 'Patient/demo-mari', role: 'patient' });
  assert.equal(who.headers.get('cache-control'), 'no-store');
  assert.equal((await fetch(server.url + '/portal/whoami')).status, 401);
});

test('a patient sees her records, a clinician\'s read of moments before, and verifies a receipt', async () => {
  // The clinician reads through the API just before the patient looks.
  const read = await api(`${server.url}/fhir`, server.token('clinician'), '/Condition/demo-asthma');
  assert.equal(read.status, 200);
  const readIndex = read.headers.get('X-Medseal-Ledger-Index');

  const page = await newPage();
  await signIn(page, server.token('patient'));
  await page.locator('#records h3', { hasText: 'Observations (2)' }).waitFor();
  for (const text of ['Asthma', 'Salbutamol inhaler', 'Body weight', 'Influenza vaccine', 'Penicillin', 'Family doctor visit']) {
    assert.ok(await page.locator('#records', { hasText: text }).count(), text);
  }
  // The trail: newest first, the clinician's read among the latest entries, break-glass flagged.
  const readRow = page.locator(`#trail tr[data-index="${readIndex}"]`);
  await readRow.waitFor();
  assert.match(await readRow.innerText(), /dr\.kask@demo-hospital[\s\S]*clinician[\s\S]*Condition\/demo-asthma[\s\S]*read/);
  const breakGlass = page.locator('#trail tr.break-glass');
  assert.equal(await breakGlass.count(), 1);
  assert.match(await breakGlass.innerText(), /dr\.other@elsewhere[\s\S]*unconscious/);
  assert.equal(await page.locator('#trail tr.refused').count(), 1);
  await page.fill('#trail-filter', 'dr.other');
  assert.equal(await page.locator('#trail tbody tr[data-index]').count(), 2);
  await page.fill('#trail-filter', '');

  // Verify the corrected observation's version 2, with the keyboard.
  await page.locator('li.record', { hasText: 'Body weight' }).locator('summary').click();
  const verify = page.locator('button.verify[data-ref="Observation/demo-weight/_history/2"]');
  await verify.focus();
  await page.keyboard.press('Enter');
  const proof = page.locator('ol.versions > li', { has: verify }).locator('.proof');
  await proof.locator('text=Proven').waitFor();
  assert.equal(await proof.getAttribute('class'), 'proof verified');
  assert.match(await proof.innerText(), /this version is entry 7 of the ledger, written by dr\.kask@demo-hospital/);
  assert.match(await proof.innerText(), /signed by localhost\/medseal/);
  // And an access entry: the clinician's read.
  await readRow.locator('button.verify').click();
  const accessProof = page.locator(`#proof-${readIndex}`);
  await accessProof.locator('text=Proven').waitFor();
  assert.equal(await accessProof.getAttribute('class'), 'proof verified');
  assert.match(await accessProof.innerText(), new RegExp(`this access is entry ${readIndex} of the ledger: dr\\.kask@demo-hospital \\(clinician\\) read`));
  await shot(page, 'patient');
  const phone = await newPage({ width: 390, height: 844 });
  await signIn(phone, server.token('patient'));
  await phone.locator('#trail tbody tr').first().waitFor();
  await phone.locator('#trail tr.break-glass').scrollIntoViewIfNeeded();
  await shot(phone, 'patient-phone', false);
  assert.deepEqual([...page.errors, ...phone.errors], []);
});

test('the same receipt with one byte of the record changed fails in the page', async () => {
  const page = await newPage();
  const ref = 'Observation/demo-weight/_history/2';
  // The record's bytes arrive with one byte changed; the receipt is untouched.
  await page.route(`**/fhir/${ref}`, async (route) => {
    const res = await route.fetch();
    const body = Buffer.from(await res.body());
    body[body.indexOf('61.5') + 1] ^= 0x01;
    await route.fulfill({ response: res, body });
  });
  await signIn(page, server.token('patient'));
  await page.locator('li.record', { hasText: 'Body weight' }).locator('summary').click();
  const verify = page.locator(`button.verify[data-ref="${ref}"]`);
  await verify.click();
  const proof = page.locator('ol.versions > li', { has: verify }).locator('.proof');
  await proof.locator('text=Not verified').waitFor();
  assert.equal(await proof.getAttribute('class'), 'proof failed');
  assert.match(await proof.innerText(), /not the bytes the ledger committed to/);
  await shot(page, 'patient-verify-failed');
});

test('an auditor sees a tamper alert within 2 s of an edit behind the server\'s back', async () => {
  const page = await newPage();
  await signIn(page, server.token('auditor'));
  await page.locator('#alerts', { hasText: 'Live' }).waitFor();
  await page.locator('#ledger dd .good').waitFor();  // the checkpoint's signature verified
  // The demo's break-glass alert is listed from /alerts.
  await page.locator('.alert[data-kind="break-glass"]').first().waitFor();
  // Behind the server's back: one byte of a stored record flipped, with the sqlite3 program.
  const started = Date.now();
  execFileSync('sqlite3', ['-cmd', '.timeout 5000', server.db,
    "UPDATE record_versions SET bytes = CAST(replace(CAST(bytes AS TEXT), 'Asthma', 'Asthmb') AS BLOB) " +
    "WHERE type = 'Condition' AND id = 'demo-asthma'"]);
  const alert = page.locator('.alert.new[data-kind="content-mismatch"]');
  await alert.waitFor({ timeout: 2000 });
  const latency = Date.now() - started;
  console.log(`# tamper alert shown in the page ${latency} ms after the edit`);
  assert.ok(latency <= 2000, `${latency} ms`);
  assert.match(await alert.innerText(), /Condition\/demo-asthma\/_history\/1/);
  assert.match(await alert.innerText(), /critical/i);
  await page.waitForTimeout(1200);  // the highlight fades; the chart has redrawn
  await shot(page, 'auditor');
  // Forensics: the panel answers with a report or says plainly that the endpoint is missing.
  await page.fill('#f-patient', 'Patient/demo-mari');
  await page.locator('#forensics button[type=submit]').click();
  await page.locator('#forensics-report :is(p.warn, h3)').first().waitFor();
  assert.deepEqual(page.errors, []);
});

test('a clinician without a care relation is asked for a reason, and one with a relation adds an observation', async () => {
  const page = await newPage();
  await signIn(page, server.issue('clinician', 'dr.new@other-clinic'));
  await page.locator('#patient-id').waitFor();
  await page.fill('#patient-id', 'demo-mari');
  await page.keyboard.press('Enter');
  const dialog = page.locator('form.break-glass');
  await dialog.waitFor();
  assert.match(await dialog.innerText(), /The patient and the auditors will see it/);
  await shot(page, 'clinician-break-glass');
  await page.fill('#break-glass-reason', 'covering the night shift');
  await page.keyboard.press('Enter');
  await page.locator('#patient', { hasText: 'Opened with break-glass: covering the night shift' }).waitFor();

  const own = await newPage();
  await signIn(own, server.token('clinician'));
  await own.fill('#patient-id', 'demo-mari');
  await own.keyboard.press('Enter');
  await own.locator('#observations', { hasText: 'Body weight' }).waitFor();
  assert.equal(await own.locator('form.break-glass').count(), 0);
  await own.fill('#obs-code', 'Heart rate');
  await own.fill('#obs-value', '72');
  await own.fill('#obs-unit', '/min');
  await own.locator('#add-observation button[type=submit]').click();
  await own.locator('#observations', { hasText: 'Heart rate' }).waitFor();
  await shot(own, 'clinician');
  assert.deepEqual([...page.errors, ...own.errors], []);
});

test('a patient blocks a clinician and unblocks him', async () => {
  const page = await newPage();
  await signIn(page, server.token('patient'));
  await page.locator('#block-who').waitFor();
  await page.fill('#block-who', 'dr.kask@demo-hospital');
  await page.keyboard.press('Enter');
  await page.locator('#blocks li', { hasText: 'Blocked: Practitioner/dr.kask' }).waitFor();
  const base = `${server.url}/fhir`;
  assert.equal((await api(base, server.token('clinician'), '/Patient/demo-mari')).status, 403);
  await page.locator('#blocks li button', { hasText: 'Unblock' }).click();
  await page.locator('#blocks', { hasText: 'You have blocked nobody.' }).waitFor();
  assert.equal((await api(base, server.token('clinician'), '/Patient/demo-mari')).status, 200);
  assert.deepEqual(page.errors, []);
});

test('the forensics panel shows a report of the fixed shape, break-glass and refusals highlighted', async () => {
  const page = await newPage();
  const report = {
    generated: Date.parse('2026-11-27T14:05:00Z'), since: Date.parse('2026-11-27T00:00:00Z'), until: Date.parse('2026-11-27T14:05:00Z'),
    filter: { patient: 'Patient/demo-mari' },
    altered: [{ index: 3, kind: 'content-mismatch', resource: 'Condition/demo-asthma/_history/1', committed: 'aa', found: 'bb', summary: 'a record version\'s bytes changed' }],
    accesses: [
      { index: 10, time: Date.parse('2026-11-27T14:01:00Z'), who: 'dr.other@elsewhere', role: 'clinician', op: 'read', outcome: 'ok', rule: 'break-glass', purpose: 'TREAT', resources: ['Patient/demo-mari/_history/1'], patients: ['Patient/demo-mari'] },
      { index: 9, time: Date.parse('2026-11-27T14:00:00Z'), who: 'dr.other@elsewhere', role: 'clinician', op: 'read', outcome: 'denied', rule: 'no-relation', purpose: 'TREAT', resources: ['Patient/demo-mari'], patients: ['Patient/demo-mari'] },
    ],
    patients: [{ patient: 'Patient/demo-mari', accesses: 2, first: Date.parse('2026-11-27T14:00:00Z'), last: Date.parse('2026-11-27T14:01:00Z') }],
    identities: [{ who: 'dr.other@elsewhere', role: 'clinician', accesses: 2, first: Date.parse('2026-11-27T14:00:00Z'), last: Date.parse('2026-11-27T14:01:00Z') }],
  };
  let asked = null;
  await page.route('**/forensics?*', (route) => {
    asked = new URL(route.request().url());
    route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(report) });
  });
  await signIn(page, server.token('auditor'));
  await page.fill('#f-patient', 'Patient/demo-mari');
  await page.fill('#f-since', '2026-11-27T00:00');
  await page.locator('#forensics button[type=submit]').click();
  await page.locator('#forensics-report h3', { hasText: 'Altered records (1)' }).waitFor();
  assert.equal(asked.searchParams.get('patient'), 'Patient/demo-mari');
  assert.equal(asked.searchParams.get('since'), String(new Date('2026-11-27T00:00').getTime()));
  assert.match(await page.locator('#forensics-report').innerText(), /Condition\/demo-asthma\/_history\/1[\s\S]*Accesses \(2\)[\s\S]*Patients \(1\)[\s\S]*Identities \(1\)/);
  assert.equal(await page.locator('#forensics-report tr.break-glass').count(), 1);
  assert.equal(await page.locator('#forensics-report tr.refused').count(), 1);
  await page.locator('#forensics').scrollIntoViewIfNeeded();
  await shot(page, 'auditor-forensics');
  assert.deepEqual(page.errors, []);
});

test('behind mutual TLS the ID card is the sign-in: no token', async (t) => {
  const pki = mkdtempSync(join(tmpdir(), 'medseal-pki-'));
  execFileSync('sh', [join(source, 'scripts/test-pki.sh'), pki], { stdio: 'ignore' });
  const tlsServer = await startMedseal({ binary: medseal, source, pki });
  t.after(async () => {
    await tlsServer.stop();
    rmSync(pki, { recursive: true, force: true });
  });
  assert.match(tlsServer.url, /^https:/);
  const context = await browser.newContext({
    ignoreHTTPSErrors: true,  // the test CA's server certificate; what is tested is the client's
    clientCertificates: [{ origin: tlsServer.url, certPath: join(pki, 'patient.pem'), keyPath: join(pki, 'patient.key') }],
  });
  const page = await context.newPage();
  await page.goto(tlsServer.url + '/');
  await page.locator('#who', { hasText: 'mari.card (patient)' }).waitFor();
  await page.locator('#records h3', { hasText: 'Observations (2)' }).waitFor();
  assert.equal(await page.locator('#token').count(), 0);
  assert.equal(await page.locator('#sign-out').isHidden(), true);
  await context.close();
});
