// portal/js/verify.js in Node 20 (globalThis.crypto.subtle): known answers from ../shared
// (transparency-dev's inclusion probes, the RFC 6962 reference tree, signed-note and
// tlog-cosignature vectors), then receipts of a real `medseal serve` with a real witness, intact
// and with one byte changed in each part.
// Usage: node verify_test.mjs --shared DIR [--medseal BINARY --source DIR]
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as v from '../../portal/js/verify.js';
import { arg, startMedseal, api, eventually } from './medseal.mjs';

const shared = arg('--shared', new URL('../../../shared', import.meta.url).pathname);
const medseal = arg('--medseal');
const source = arg('--source', new URL('../..', import.meta.url).pathname);
const enc = new TextEncoder();
const b64 = (s) => (s === null ? null : v.fromBase64(s));

function jsonFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return jsonFiles(path);
    return name.endsWith('.json') ? [path] : [];
  });
}

// Resolves to the VerifyError's check, or null if `promise` succeeded.
async function failure(promise) {
  try {
    await promise;
    return null;
  } catch (e) {
    if (!(e instanceof v.VerifyError)) throw e;
    return e.check;
  }
}

test('every inclusion probe of testdata/merkle is accepted or rejected as it wants', async () => {
  const files = jsonFiles(join(shared, 'testdata/merkle/inclusion'));
  assert.ok(files.length >= 40, `only ${files.length} probes`);
  let rejected = 0;
  for (const file of files) {
    const p = JSON.parse(readFileSync(file, 'utf8'));
    const proof = (p.proof ?? []).map(b64);
    const bad = [b64(p.leafHash), b64(p.root), ...proof].some((h) => !h);
    const got = bad ? 'parse' : await failure(v.verifyInclusion(b64(p.leafHash), p.leafIdx, p.treeSize, proof, b64(p.root)));
    assert.equal(got !== null, p.wantErr, `${file}: ${p.desc}`);
    if (got) rejected++;
  }
  assert.ok(rejected > 0 && rejected < files.length);
});

test('the RFC 6962 reference tree: hasher answers and an inclusion proof for every leaf', async () => {
  const ref = JSON.parse(readFileSync(join(shared, 'testdata/merkle/reference-tree.json'), 'utf8'));
  const k = ref.hasher_kats;
  assert.equal(v.toHex(await v.sha256()), k.empty_tree);
  assert.equal(v.toHex(await v.leafHash(new Uint8Array())), k['leaf("")']);
  assert.equal(v.toHex(await v.leafHash(enc.encode('L123456'))), k['leaf("L123456")']);
  assert.equal(v.toHex(await v.sha256(Uint8Array.of(1), enc.encode('N123N456'))), k['node("N123","N456")']);
  // Proofs built here from the leaves (RFC 9162 2.1.3.1) must verify against the published roots.
  const leaves = await Promise.all(ref.leaf_inputs_hex.map((h) => v.leafHash(v.fromHex(h))));
  const root = async (hs) => {
    if (hs.length === 1) return hs[0];
    const k2 = 2 ** Math.floor(Math.log2(hs.length - 1));
    return v.nodeHash(await root(hs.slice(0, k2)), await root(hs.slice(k2)));
  };
  const path = async (m, hs) => {
    if (hs.length === 1) return [];
    const k2 = 2 ** Math.floor(Math.log2(hs.length - 1));
    return m < k2 ? [...(await path(m, hs.slice(0, k2))), await root(hs.slice(k2))]
      : [...(await path(m - k2, hs.slice(k2))), await root(hs.slice(0, k2))];
  };
  for (let size = 1; size <= leaves.length; size++) {
    const want = v.fromHex(ref.root_hashes_hex_by_size[String(size)]);
    for (let i = 0; i < size; i++) {
      await v.verifyInclusion(leaves[i], i, size, await path(i, leaves.slice(0, size)), want);
    }
    assert.equal(await failure(v.verifyInclusion(leaves[0], 0, size, await path(1 % size, leaves.slice(0, size)), want)),
      size === 1 ? null : 'inclusion');
  }
});

test('signed-note and tlog-cosignature vectors', async () => {
  const vectors = JSON.parse(readFileSync(join(shared, 'testdata/note/vectors.json'), 'utf8'));
  for (const n of vectors.notes) {
    const key = await v.parseVkey(n.vkey);
    assert.ok(await v.verifyNoteSignature(v.parseNote(n.signed_note), key), n.source);
    const changed = n.signed_note.replace(n.text.slice(0, 3), n.text.slice(0, 3).toUpperCase() === n.text.slice(0, 3)
      ? n.text.slice(0, 3).toLowerCase() : n.text.slice(0, 3).toUpperCase());
    assert.notEqual(changed, n.signed_note);
    assert.equal(await v.verifyNoteSignature(v.parseNote(changed), key), false, 'a changed text must not verify');
  }
  await assert.rejects(v.parseVkey(vectors.notes[0].vkey.replace('+c74f20a3+', '+c74f20a4+')), /key id/);
  for (const c of vectors.cosignatures) {
    const key = await v.parseVkey(c.cosigner_vkey);
    const note = v.parseNote(`${c.checkpoint_text}\n${c.signature_line}\n`);
    assert.equal(await v.verifyCosignature(note, key), c.timestamp);
    const other = v.parseNote(`${c.checkpoint_text.replace('300', '301')}\n${c.signature_line}\n`);
    assert.equal(await v.verifyCosignature(other, key), null);
  }
});

test('strict base64', () => {
  assert.deepEqual(v.fromBase64('AAEC'), Uint8Array.of(0, 1, 2));
  assert.deepEqual(v.fromBase64('AAE='), Uint8Array.of(0, 1));
  assert.equal(v.fromBase64('AAF='), null, 'non-canonical padding bits');
  assert.equal(v.fromBase64('AAE'), null);
  assert.equal(v.fromBase64('A-E='), null);
});

test('receipts of a real server with a witness', { skip: !medseal && 'no --medseal' }, async (t) => {
  const server = await startMedseal({ binary: medseal, source });
  t.after(() => server.stop());
  const base = `${server.url}/fhir`;
  const clinician = server.token('clinician');
  const keys = await (await fetch(`${server.url}/portal/keys.json`)).json();
  assert.equal(keys.witnesses.length, 1);
  const put = await api(base, clinician, '/Observation/verify-test', { method: 'PUT',
    body: { resourceType: 'Observation', id: 'verify-test', status: 'final', code: { text: 'Body weight' },
      subject: { reference: 'Patient/demo-mari' }, valueQuantity: { value: 61.5, unit: 'kg' } } });
  assert.equal(put.status, 201);
  const index = BigInt(put.headers.get('X-Medseal-Ledger-Index'));
  const ref = 'Observation/verify-test/_history/1';
  const bytes = new Uint8Array(await (await api(base, clinician, `/${ref}`)).arrayBuffer());
  // Wait until the witness has cosigned a checkpoint covering the entry.
  const receipt = await eventually(async () => {
    const res = await api(base, clinician, `/${ref}/$receipt`);
    return res.headers.get('X-Medseal-Witnessed') === 'witnessed' ? res.text() : null;
  });
  const opts = { receipt, logKey: keys.log, witnessKeys: keys.witnesses, quorum: 1, resource: { ref, bytes } };
  const ok = await v.verifyReceipt(opts);
  assert.equal(ok.index, index);
  assert.equal(ok.kind, 'record-version');
  assert.equal(ok.statement.who, 'dr.kask@demo-hospital');
  assert.deepEqual(ok.witnesses.map((w) => w.name), ['witness1.example']);
  assert.ok(Math.abs(ok.witnesses[0].time * 1000 - Date.now()) < 60000);

  const flipped = bytes.slice();
  flipped[bytes.length - 5] ^= 1;
  assert.equal(await failure(v.verifyReceipt({ ...opts, resource: { ref, bytes: flipped } })), 'record');
  assert.equal(await failure(v.verifyReceipt({ ...opts, resource: { ref: 'Observation/verify-test/_history/2', bytes } })), 'record');

  const lines = receipt.split('\n');
  const extra = v.fromBase64(lines[1].slice(6));
  const withExtra = (e) => [lines[0], `extra ${v.toBase64(e)}`, ...lines.slice(2)].join('\n');
  const salted = extra.slice();
  salted[50] ^= 1;  // a byte of the salt
  assert.equal(await failure(v.verifyReceipt({ ...opts, receipt: withExtra(salted) })), 'commitment');
  const timed = extra.slice();
  timed[9] ^= 1;  // the leaf's time: the commitment still holds, the statement's time does not
  assert.equal(await failure(v.verifyReceipt({ ...opts, receipt: withExtra(timed) })), 'statement');
  const committed = extra.slice();
  committed[20] ^= 1;  // the leaf's commitment
  assert.equal(await failure(v.verifyReceipt({ ...opts, receipt: withExtra(committed) })), 'commitment');

  const later = receipt;  // the demo data precedes the entry: its proof has hashes to tamper with
  const proofLine = later.split('\n').findIndex((l) => l.startsWith('index ')) + 1;
  const laterLines = later.split('\n');
  assert.equal(v.fromBase64(laterLines[proofLine])?.length, 32);
  const hash = v.fromBase64(laterLines[proofLine]);
  hash[0] ^= 1;
  laterLines[proofLine] = v.toBase64(hash);
  assert.equal(await failure(v.verifyReceipt({ ...opts, receipt: laterLines.join('\n') })), 'inclusion');
  const resigned = later.replace(/^\u2014 (\S+) (\S)/mu, (m, name, c) => `\u2014 ${name} ${c === 'A' ? 'B' : 'A'}`);
  assert.ok([ 'signature', 'note', 'witnesses' ].includes(await failure(v.verifyReceipt({ ...opts, receipt: resigned }))));
  const otherKey = 'other.example+5d8c3b53+AeWiyZivYpbDV/Rqmm5L2gtOxv26CPepuPz1moqq3L0k';
  assert.equal(await failure(v.verifyReceipt({ ...opts, logKey: otherKey })), 'key');
  assert.equal(await failure(v.verifyReceipt({ ...opts, quorum: 2 })), 'witnesses');
});
