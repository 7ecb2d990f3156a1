// Real medseal processes for the portal tests: a log with one witness (so receipts carry a
// cosignature), demo identities, and small API helpers. Everything listens on 127.0.0.1 only.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function arg(name, fallback) {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

// Starts `medseal ...args` and resolves with the process and the URL it prints
// ("listening on URL"), or rejects after 20 s.
function start(binary, args, label) {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${label} did not start: ${err}`));
    }, 20000);
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening on (\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1], stdout: () => out, stderr: () => err });
      }
    });
    child.stderr.on('data', (d) => { err += d; });
    child.on('exit', (code) => reject(new Error(`${label} exited ${code}: ${err}`)));
  });
}

// Ends a started process and waits for it (at once if it has already exited).
async function end(p) {
  p.child.removeAllListeners('exit');
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  const exited = new Promise((r) => p.child.once('exit', r));
  p.child.kill('SIGTERM');
  await exited;
}

// A serving medseal with one witness (quorum 1) and demo identities (scripts/demo-identities.sh).
// With `pki` (a directory made by scripts/test-pki.sh) it serves HTTPS and accepts client
// certificates of that CA; the person of patient.pem is the demo patient, mari.card.
// On failure nothing is left running.
export async function startMedseal({ binary, source, pki = null }) {
  const dir = mkdtempSync(join(tmpdir(), 'medseal-portal-'));
  const data = join(dir, 'data');
  const started = [];
  try {
    execFileSync(binary, ['keygen', '--out', data], { stdio: 'ignore' });
    try {
      execFileSync('sh', [join(source, 'scripts/demo-identities.sh'), binary, data], { stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (e) {
      throw new Error(`demo-identities.sh failed (${e.status}): ${e.stderr}`);
    }
    started.push(await start(binary, ['witness', '--data', join(dir, 'w1'), '--name', 'witness1.example',
      '--log', join(data, 'log.vkey'), '--listen', '127.0.0.1:0'], 'witness'));
    const tls = [];
    if (pki) {
      execFileSync(binary, ['user', 'add', '--data', data, '--person', 'PNOEE-49002124277', '--role', 'patient',
        '--name', 'mari.card', '--patient', 'Patient/demo-mari'], { stdio: 'ignore' });
      tls.push('--tls-cert', join(pki, 'server.pem'), '--tls-key', join(pki, 'server.key'),
        '--client-ca', join(pki, 'ca.pem'), '--crl', join(pki, 'crl.pem'));
    }
    started.push(await start(binary, ['serve', '--data', data, '--listen', '127.0.0.1:0', ...tls,
      '--witness', `${started[0].url}=${join(dir, 'w1', 'witness.vkey')}`, '--witness-quorum', '1'], 'serve'));
  } catch (e) {
    for (const p of started.reverse()) await end(p);
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const [witness, serve] = started;
  const token = (role) => readFileSync(join(data, 'demo', `${role}.token`), 'utf8').trim();
  return {
    url: serve.url,
    data,
    db: join(data, 'medseal.db'),
    serve,
    token,
    issue(role, name) {
      return execFileSync(binary, ['token', 'issue', '--data', data, '--role', role, '--name', name],
        { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    },
    async stop() {
      await end(serve);
      await end(witness);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// fetch on the server with a bearer token; `headers` adds to them.
export async function api(base, token, path, { method = 'GET', body, headers = {} } = {}) {
  const h = { Accept: 'application/fhir+json', Authorization: `Bearer ${token}`, ...headers };
  if (body !== undefined) h['Content-Type'] = 'application/fhir+json';
  const res = await fetch(base + path, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) });
  return res;
}

// Waits until `probe` resolves truthy (every 100 ms, up to `ms`).
export async function eventually(probe, ms = 10000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 100));
  }
}
