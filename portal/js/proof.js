// Verify buttons: fetch a receipt (and the record's exact bytes), verify it with verify.js
// against the log's and witnesses' keys, and say in plain words what was proven or what failed.
//
// Where the keys come from: /portal/keys.json, served by the same server. The browser pins the
// log's key the first time it sees it (localStorage) and warns when it changes, and shows it so
// that it can be compared with the key the operator publishes; the witnesses' cosignatures are
// what makes a receipt worth more than the operator's word, since each witness signs only a
// checkpoint consistent with every one it signed before.
import { h, replace, formatTime } from './dom.js';
import { t } from '../strings.js';
import * as api from './api.js';
import { verifyReceipt, VerifyError } from './verify.js';

const PIN_KEY = 'medseal.logKey';
let keysPromise = null;

export function keys() {
  keysPromise ??= fetch('/portal/keys.json', { cache: 'no-store' }).then((r) => {
    if (!r.ok) throw new Error(`keys: HTTP ${r.status}`);
    return r.json();
  });
  return keysPromise;
}

// The pinned log key, pinning it on first use; {changed: old} when it differs from the pin.
function pin(logKey) {
  const old = localStorage.getItem(PIN_KEY);
  if (!old) localStorage.setItem(PIN_KEY, logKey);
  return old && old !== logKey ? { changed: old } : {};
}

const opWords = {
  create: 'opCreate', update: 'opUpdate', delete: 'opDelete', read: 'opRead', vread: 'opVread',
  history: 'opHistory', search: 'opSearch', audit: 'opAudit', receipt: 'opReceipt', erase: 'opErase',
};
export const opWord = (op) => t(opWords[op] ?? 'opOther', { op });

// Verifies `receiptPath`'s receipt (with the record at `recordPath` when given, `ref` naming it)
// and writes the outcome into `out`. Returns true when verified.
export async function verifyInto(out, { receiptPath, recordPath = null, ref = null }) {
  replace(out, h('p', { class: 'pending' }, t('verifying')));
  out.hidden = false;
  try {
    const k = await keys();
    const [receipt, record] = await Promise.all([
      api.text(receiptPath),
      recordPath ? api.bytes(recordPath) : Promise.resolve(null),
    ]);
    const r = await verifyReceipt({
      receipt, logKey: k.log, witnessKeys: k.witnesses, quorum: 0,  // short of the quorum: said below
      resource: record ? { ref, bytes: record } : null,
    });
    const pinned = pin(k.log);
    replace(out, describe(r, k, !!record), pinned.changed ? h('p', { class: 'bad' }, t('keyChanged', { old: pinned.changed })) : null,
      h('p', { class: 'key' }, t('keyPinned', { key: k.log })));
    out.className = `proof ${pinned.changed ? 'failed' : 'verified'}`;
    return !pinned.changed;
  } catch (e) {
    const reason = e instanceof VerifyError || e instanceof api.ApiError ? e.message : String(e.message ?? e);
    const text = e instanceof VerifyError ? t('verifyFailedCheck', { plain: t(`check_${e.check}`), reason })
      : t('verifyFailed', { reason });
    replace(out, h('p', { role: 'alert' }, text));
    out.className = 'proof failed';
    return false;
  }
}

function describe(r, k, isVersion) {
  const s = r.statement;
  const time = formatTime(r.time);
  const lines = [
    isVersion
      ? t('verifiedVersion', { index: r.index, who: s.who ?? '?', time })
      : t('verifiedAccess', { index: r.index, who: s.who ?? '?', role: s.role ?? '?', op: opWord(s.op), time }),
    t('verifiedLog', { size: r.checkpoint.size, log: r.log }),
  ];
  if (k.witnesses.length === 0) {
    lines.push(t('verifiedNoWitnesses'));
  } else if (r.witnesses.length === 0 || r.witnesses.length < k.quorum) {
    lines.push(t('witnessPending'));
  } else {
    const latest = Math.max(...r.witnesses.map((w) => w.time)) * 1000;
    lines.push(t('verifiedWitnesses', {
      count: r.witnesses.length, total: k.witnesses.length,
      names: r.witnesses.map((w) => w.name).join(', '), time: formatTime(latest),
    }));
  }
  return lines.map((line) => h('p', {}, line));
}
