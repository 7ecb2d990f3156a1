// Receipt verification in the browser (and in Node 20): the same rules as `medseal verify`
// (DESIGN.md 4.1-4.4), on WebCrypto's SHA-256 and Ed25519 only. Pure: no DOM, no fetch, no
// globals but globalThis.crypto.subtle. Every check either passes or throws a VerifyError whose
// message says which check failed, in one line, with no health data.
//
//   receipt (c2sp.org/tlog-proof@v1) = "extra" base64(leaf[42] || salt[32] || statement)
//                                      + index + inclusion proof + signed checkpoint
//   1. the leaf's commitment is SHA-256(salt || statement)
//   2. for a record version: the statement's sha256 is SHA-256 of the record's exact bytes, and
//      the statement names that version
//   3. leaf hash SHA-256(0x00 || leaf); RFC 9162 2.1.3.2 inclusion proof up to the root
//   4. the checkpoint (tlog-checkpoint) is signed by the log's key (signed-note, Ed25519)
//   5. witness cosignatures (tlog-cosignature/v1, timestamped Ed25519) by the given witness keys,
//      at least `quorum` of them

const subtle = globalThis.crypto.subtle;
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export class VerifyError extends Error {
  constructor(check, message) {
    super(message);
    this.check = check;
  }
}

function fail(check, message) {
  throw new VerifyError(check, message);
}

// --- bytes

export function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function equalBytes(a, b) {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

export function toHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

export function fromHex(hex) {
  if (hex.length % 2 !== 0 || !/^[0-9a-f]*$/.test(hex)) return null;
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

// Standard base64 with padding, canonical only (what re-encodes to the same text); null otherwise.
export function fromBase64(text) {
  if (typeof text !== 'string' || text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return null;
  const pad = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  const out = new Uint8Array((text.length / 4) * 3 - pad);
  let bits = 0;
  let value = 0;
  let at = 0;
  for (const c of text.slice(0, text.length - pad)) {
    value = (value << 6) | B64.indexOf(c);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      if (at < out.length) out[at++] = (value >> bits) & 0xff;
    }
  }
  return toBase64(out) === text ? out : null;
}

export function toBase64(bytes) {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    out += B64[(n >> 18) & 63] + B64[(n >> 12) & 63];
    out += i + 1 < bytes.length ? B64[(n >> 6) & 63] : '=';
    out += i + 2 < bytes.length ? B64[n & 63] : '=';
  }
  return out;
}

export async function sha256(...parts) {
  return new Uint8Array(await subtle.digest('SHA-256', concat(...parts)));
}

// --- Merkle tree (RFC 9162 2.1)

export const leafHash = (leaf) => sha256(Uint8Array.of(0), leaf);
export const nodeHash = (left, right) => sha256(Uint8Array.of(1), left, right);

// RFC 9162 2.1.3.2: verifies that `leaf` (a leaf hash) is entry `index` of the tree of `size`
// whose root is `root`. Sizes and indexes are BigInt (a tree may outgrow 2^53). Throws on failure.
export async function verifyInclusion(leaf, index, size, proof, root) {
  index = BigInt(index);
  size = BigInt(size);
  for (const h of [leaf, root, ...proof]) {
    if (!(h instanceof Uint8Array) || h.length !== 32) fail('inclusion', 'a hash is not 32 bytes');
  }
  if (index >= size) fail('inclusion', `index ${index} is not below the tree size ${size}`);
  let fn = index;
  let sn = size - 1n;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0n) fail('inclusion', 'the inclusion proof is too long');
    if ((fn & 1n) === 1n || fn === sn) {
      r = await nodeHash(p, r);
      while ((fn & 1n) === 0n && fn !== 0n) {
        fn >>= 1n;
        sn >>= 1n;
      }
    } else {
      r = await nodeHash(r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  if (sn !== 0n) fail('inclusion', 'the inclusion proof is too short');
  if (!equalBytes(r, root)) fail('inclusion', 'the inclusion proof does not lead to the checkpoint\'s root');
}

// --- signed notes, keys, checkpoints, cosignatures (C2SP)

const SIG_ED25519 = 0x01;
const SIG_COSIGNATURE_V1 = 0x04;

async function keyId(name, type, publicKey) {
  return (await sha256(encoder.encode(name + '\n'), Uint8Array.of(type), publicKey)).slice(0, 4);
}

// A verifier key "<name>+<hex key id>+<base64(type || public key)>" (split on the first two '+':
// base64 may hold '+'). Checks the key id against the key.
export async function parseVkey(text) {
  const first = text.indexOf('+');
  const second = first < 0 ? -1 : text.indexOf('+', first + 1);
  if (first <= 0 || second < 0) fail('key', 'not a verifier key');
  const name = text.slice(0, first);
  const idHex = text.slice(first + 1, second);
  const material = fromBase64(text.slice(second + 1));
  if (!/^[0-9a-f]{8}$/.test(idHex) || !material || material.length !== 33) fail('key', 'not a verifier key');
  if (/[\s+]/.test(name)) fail('key', 'a key name may hold no space or +');
  const type = material[0];
  if (type !== SIG_ED25519 && type !== SIG_COSIGNATURE_V1) fail('key', `unsupported key type ${type}`);
  const publicKey = material.slice(1);
  const id = await keyId(name, type, publicKey);
  if (toHex(id) !== idHex) fail('key', `the key id of ${name} does not match its key`);
  return { name, id, type, publicKey, text };
}

async function ed25519Verify(publicKey, signature, message) {
  const key = await subtle.importKey('raw', publicKey, { name: 'Ed25519' }, false, ['verify']);
  return subtle.verify({ name: 'Ed25519' }, key, signature, message);
}

// signed-note v1.0.0: the text (ending in a newline) and its signature lines "— name base64".
export function parseNote(note) {
  const split = note.lastIndexOf('\n\n');
  if (split < 0 || !note.endsWith('\n')) fail('note', 'not a signed note');
  const text = note.slice(0, split + 1);
  const signatures = [];
  for (const line of note.slice(split + 2, -1).split('\n')) {
    const m = /^\u2014 (\S+) (\S+)$/.exec(line);
    const bytes = m && fromBase64(m[2]);
    if (!bytes || bytes.length < 5) fail('note', 'a signature line is malformed');
    signatures.push({ name: m[1], id: bytes.slice(0, 4), signature: bytes.slice(4) });
  }
  if (signatures.length === 0) fail('note', 'the note has no signature');
  return { text, signatures };
}

// True if one of the note's signatures is `vkey`'s (type 0x01) and verifies over the text.
export async function verifyNoteSignature(note, vkey) {
  if (vkey.type !== SIG_ED25519) fail('key', `${vkey.name} is not a log signing key`);
  const message = encoder.encode(note.text);
  for (const s of note.signatures) {
    if (s.name !== vkey.name || !equalBytes(s.id, vkey.id)) continue;
    if (s.signature.length === 64 && (await ed25519Verify(vkey.publicKey, s.signature, message))) return true;
  }
  return false;
}

// tlog-cosignature/v1.0.1: the time (Unix seconds, a Number) at which `vkey`'s witness cosigned
// the checkpoint text, or null if no valid cosignature of that witness is on the note.
export async function verifyCosignature(note, vkey) {
  if (vkey.type !== SIG_COSIGNATURE_V1) fail('key', `${vkey.name} is not a witness key`);
  for (const s of note.signatures) {
    if (s.name !== vkey.name || !equalBytes(s.id, vkey.id) || s.signature.length !== 72) continue;
    const time = new DataView(s.signature.buffer, s.signature.byteOffset).getBigUint64(0);
    const message = encoder.encode(`cosignature/v1\ntime ${time}\n${note.text}`);
    if (await ed25519Verify(vkey.publicKey, s.signature.slice(8), message)) return Number(time);
  }
  return null;
}

// tlog-checkpoint v1.0.0: origin, decimal size, base64 root, then optional extension lines.
export function parseCheckpoint(text) {
  const lines = text.split('\n');
  if (lines.length < 4 || lines[lines.length - 1] !== '') fail('checkpoint', 'not a checkpoint');
  const [origin, sizeText, rootText] = lines;
  const root = fromBase64(rootText);
  if (!origin || !/^(0|[1-9][0-9]{0,19})$/.test(sizeText) || !root || root.length !== 32) {
    fail('checkpoint', 'not a checkpoint');
  }
  return { origin, size: BigInt(sizeText), root };
}

// --- receipts (DESIGN.md 4.3, 4.4)

export const ENTRY_KINDS = { 1: 'record-version', 2: 'access', 3: 'access-denied', 4: 'system' };
const LEAF_BYTES = 42;
const SALT_BYTES = 32;

// c2sp.org/tlog-proof@v1, strictly: header, extra, index, proof hashes, blank line, checkpoint.
export function parseTlogProof(text) {
  const split = text.indexOf('\n\n');
  if (!text.startsWith('c2sp.org/tlog-proof@v1\n') || split < 0) fail('receipt', 'not a tlog-proof');
  const lines = text.slice(0, split).split('\n').slice(1);
  let extra = null;
  if (lines[0]?.startsWith('extra ')) {
    extra = fromBase64(lines.shift().slice(6));
    if (!extra || extra.length === 0) fail('receipt', 'the extra line is not base64');
  }
  const index = /^index (0|[1-9][0-9]{0,19})$/.exec(lines.shift() ?? '');
  if (!index) fail('receipt', 'the index line is malformed');
  const inclusion = lines.map((l) => fromBase64(l));
  if (inclusion.some((h) => !h || h.length !== 32) || inclusion.length > 64) {
    fail('receipt', 'an inclusion proof hash is malformed');
  }
  return { extra, index: BigInt(index[1]), inclusion, checkpoint: text.slice(split + 2) };
}

// leaf[42] = version 0x01, kind, time (ms, big-endian uint64), commitment[32].
export function parseLeaf(leaf) {
  if (leaf.length !== LEAF_BYTES || leaf[0] !== 0x01) fail('leaf', 'the ledger entry is not format version 1');
  const kind = ENTRY_KINDS[leaf[1]];
  if (!kind) fail('leaf', `unknown entry kind ${leaf[1]}`);
  const time = Number(new DataView(leaf.buffer, leaf.byteOffset).getBigUint64(2));
  return { kind, time, commitment: leaf.slice(10) };
}

// Verifies a receipt. Options:
//   receipt       the tlog-proof text
//   logKey        the log's verifier key text (its name must be the checkpoint's origin)
//   witnessKeys   witness verifier key texts; quorum: how many must have cosigned (default 0)
//   resource      for a record version: { ref: "Type/id/_history/N", bytes: Uint8Array }
// Returns { index, kind, time, statement, checkpoint: {origin, size}, log, witnesses:
// [{name, time}], quorum, witnessesKnown }, or throws VerifyError naming the failed check.
export async function verifyReceipt({ receipt, logKey, witnessKeys = [], quorum = 0, resource = null }) {
  const proof = parseTlogProof(receipt);
  if (!proof.extra || proof.extra.length <= LEAF_BYTES + SALT_BYTES) fail('receipt', 'the receipt carries no entry');
  const leaf = proof.extra.slice(0, LEAF_BYTES);
  const salt = proof.extra.slice(LEAF_BYTES, LEAF_BYTES + SALT_BYTES);
  const statementBytes = proof.extra.slice(LEAF_BYTES + SALT_BYTES);
  const entry = parseLeaf(leaf);

  if (!equalBytes(await sha256(salt, statementBytes), entry.commitment)) {
    fail('commitment', 'the statement does not match the ledger entry\'s commitment');
  }
  let statement;
  try {
    statement = JSON.parse(decoder.decode(statementBytes));
  } catch {
    fail('statement', 'the statement is not JSON');
  }
  if (statement.time !== undefined && statement.time !== entry.time) {
    fail('statement', 'the statement\'s time is not the entry\'s time');
  }
  if (resource) await checkResource(statement, entry, resource);

  const note = parseNote(proof.checkpoint);
  const checkpoint = parseCheckpoint(note.text);
  const log = await parseVkey(logKey);
  if (checkpoint.origin !== log.name) fail('checkpoint', `the checkpoint is of ${checkpoint.origin}, not ${log.name}`);
  await verifyInclusion(await leafHash(leaf), proof.index, checkpoint.size, proof.inclusion, checkpoint.root);
  if (!(await verifyNoteSignature(note, log))) fail('signature', 'the checkpoint is not signed by the log\'s key');

  const witnesses = [];
  for (const text of witnessKeys) {
    const key = await parseVkey(text);
    const time = await verifyCosignature(note, key);
    if (time !== null) witnesses.push({ name: key.name, time });
  }
  if (witnesses.length < quorum) {
    fail('witnesses', `cosigned by ${witnesses.length} of ${witnessKeys.length} witnesses, ${quorum} required`);
  }
  return {
    index: proof.index,
    kind: entry.kind,
    time: entry.time,
    statement,
    checkpoint: { origin: checkpoint.origin, size: checkpoint.size },
    log: log.name,
    witnesses,
    witnessesKnown: witnessKeys.length,
    quorum,
  };
}

async function checkResource(statement, entry, resource) {
  if (entry.kind !== 'record-version') fail('record', 'the entry is not a record version');
  if (!Array.isArray(statement.resources) || !statement.resources.includes(resource.ref)) {
    fail('record', `the statement does not name ${resource.ref}`);
  }
  if (typeof statement.sha256 !== 'string') fail('record', 'the statement carries no record hash');
  if (toHex(await sha256(resource.bytes)) !== statement.sha256) {
    fail('record', 'the record\'s bytes are not the bytes the ledger committed to');
  }
}
