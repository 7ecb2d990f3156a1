// The public log as the auditor's page reads it (tlog-tiles v0.1.0): the checkpoint, verified
// here against the log's and witnesses' keys, and the last entry bundles, whose 42-byte leaves
// carry each entry's kind and time (DESIGN.md 4.3) — enough to chart growth and accesses.
import * as v from './verify.js';

// "/log/tile/entries/x001/234.p/5" for bundle 1234 holding 5 entries (full: no ".p/W").
export function bundlePath(n, width) {
  const digits = String(n).padStart(3 * Math.ceil(String(n).length / 3), '0');
  const parts = digits.match(/.{3}/g);
  const path = parts.map((p, i) => (i < parts.length - 1 ? `x${p}` : p)).join('/');
  return `/log/tile/entries/${path}${width < 256 ? `.p/${width}` : ''}`;
}

// The leaves of an entry bundle: each a 2-byte big-endian length and the entry.
export function bundleLeaves(bytes) {
  const out = [];
  for (let at = 0; at + 2 <= bytes.length;) {
    const len = (bytes[at] << 8) | bytes[at + 1];
    out.push(bytes.slice(at + 2, at + 2 + len));
    at += 2 + len;
  }
  return out;
}

// {origin, size, root, signed, cosigned: [{name, time}], raw} for the served checkpoint.
export async function checkpointStatus(keys) {
  const res = await fetch('/log/checkpoint', { cache: 'no-store' });
  if (!res.ok) throw new Error(`checkpoint: HTTP ${res.status}`);
  const raw = await res.text();
  const note = v.parseNote(raw);
  const cp = v.parseCheckpoint(note.text);
  const log = await v.parseVkey(keys.log);
  const cosigned = [];
  for (const text of keys.witnesses) {
    const key = await v.parseVkey(text);
    const time = await v.verifyCosignature(note, key);
    if (time !== null) cosigned.push({ name: key.name, time });
  }
  return { ...cp, signed: cp.origin === log.name && (await v.verifyNoteSignature(note, log)), log: log.name, cosigned, raw };
}

// The last `bundles` entry bundles of a log of `size` entries: [{index, kind, time}], oldest first.
export async function recentEntries(size, bundles = 4) {
  const total = Number(size);
  if (total === 0) return [];
  const last = Math.floor((total - 1) / 256);
  const out = [];
  for (let n = Math.max(0, last - bundles + 1); n <= last; n++) {
    const width = n === last ? total - 256 * last : 256;
    const res = await fetch(bundlePath(n, width));
    if (!res.ok) throw new Error(`entry bundle ${n}: HTTP ${res.status}`);
    bundleLeaves(new Uint8Array(await res.arrayBuffer())).forEach((leaf, i) => {
      const e = v.parseLeaf(leaf);
      out.push({ index: n * 256 + i, kind: e.kind, time: e.time });
    });
  }
  return out;
}
