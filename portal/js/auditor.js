// The auditor's view: live alerts (/alerts, then /alerts/stream read with fetch), the ledger's
// status and a chart from its public tiles, and the forensics report (/forensics).
import { h, replace, section, field, formatTime, announce } from './dom.js';
import { t } from '../strings.js';
import * as api from './api.js';
import { keys } from './proof.js';
import { checkpointStatus, recentEntries } from './ledger.js';
import { drawChart } from './chart.js';

const REFRESH_MS = 5000;
const RECONNECT_MS = 2000;
let stopping = null;  // aborts the stream and timers of the previous view

export function showAuditor(main) {
  stopping?.abort();
  stopping = new AbortController();
  const alerts = alertsSection(stopping.signal);
  const ledger = ledgerSection(stopping.signal);
  replace(main, alerts, ledger, forensicsSection());
}

// --- alerts

function alertsSection(signal) {
  const list = h('ol', { class: 'alerts', 'aria-live': 'polite' });
  const state = h('p', { class: 'muted' }, t('loading'));
  const seen = new Set();
  const add = (a, live) => {
    if (seen.has(a.id)) return;
    seen.add(a.id);
    const item = alertItem(a, live);
    if (live) list.prepend(item);
    else list.append(item);
    list.querySelector('.empty')?.remove();
    if (live) announce(`${a.severity}: ${a.kind}: ${a.summary}`);
  };
  (async () => {
    try {
      const { alerts } = await api.json('/alerts?limit=100', { signal });
      alerts.forEach((a) => add(a, false));
      if (alerts.length === 0) list.append(h('li', { class: 'empty muted' }, t('noAlerts')));
    } catch (e) {
      if (!signal.aborted) state.textContent = t('error', { reason: e.message });
      return;
    }
    while (!signal.aborted) {
      state.textContent = t('alertsLive');
      try {
        await api.readEvents('/alerts/stream', (ev) => add(JSON.parse(ev.data), true), signal);
      } catch (e) {
        if (signal.aborted) return;
      }
      state.textContent = t('alertsReconnecting');
      await new Promise((r) => setTimeout(r, RECONNECT_MS));
    }
  })();
  return section('alerts', t('alertsTitle'), state, list);
}

function alertItem(a, live) {
  const evidence = Object.entries(a.evidence ?? {});
  return h('li', { class: `alert sev-${a.severity}${live ? ' new' : ''}`, dataset: { kind: a.kind, id: a.id } },
    h('div', { class: 'alert-head' },
      h('span', { class: 'badge' }, a.severity), ' ', h('strong', { class: 'kind' }, a.kind), ' ',
      h('time', {}, formatTime(a.time_ms))),
    h('p', {}, a.summary),
    a.resources?.length ? h('p', {}, h('span', { class: 'muted' }, `${t('resources')}: `), a.resources.join(', ')) : null,
    a.indexes?.length ? h('p', {}, h('span', { class: 'muted' }, `${t('indexes')}: `), a.indexes.join(', ')) : null,
    evidence.length ? h('details', {}, h('summary', {}, t('evidence')),
      h('dl', { class: 'evidence' }, evidence.map(([k, val]) => [h('dt', {}, k), h('dd', {}, typeof val === 'string' ? val : JSON.stringify(val))]))) : null);
}

// --- ledger status and chart

function ledgerSection(signal) {
  const status = h('dl', { class: 'status' });
  const canvas = h('canvas', { class: 'chart', role: 'img', 'aria-label': t('chartTitle') });
  const caption = h('p', { class: 'muted' });
  const refresh = async () => {
    try {
      const k = await keys();
      const cp = await checkpointStatus(k);
      const entries = await recentEntries(cp.size);
      const latest = entries.at(-1)?.time;
      replace(status,
        row(t('ledgerSize'), String(cp.size)),
        row(t('ledgerRoot'), h('code', {}, cp.raw.split('\n')[2])),
        row(t('ledgerCheckpointAge'), latest ? t('ledgerAge', { age: age(Date.now() - latest), time: formatTime(latest) }) : '—'),
        row(t('ledgerSignature'), h('span', { class: cp.signed ? 'good' : 'bad' }, cp.signed ? t('signatureOk', { log: cp.log }) : t('signatureBad'))),
        row(t('ledgerCosignatures'), cp.cosigned.length === 0 ? t('noCosignatures')
          : `${cp.cosigned.length}/${k.witnesses.length}: ${cp.cosigned.map((c) => `${c.name} ${formatTime(c.time * 1000)}`).join(', ')}`),
        row(t('publication'), t('publicationNone')));
      caption.textContent = entries.length ? t('chartCaption', { count: entries.length }) : t('chartEmpty');
      drawChart(canvas, entries);
    } catch (e) {
      replace(status, row(t('ledgerTitle'), t('error', { reason: e.message })));
    }
    if (!signal.aborted) setTimeout(refresh, REFRESH_MS);
  };
  refresh();
  return section('ledger', t('ledgerTitle'), status, h('h3', {}, t('chartTitle')), canvas, caption);
}

const row = (name, value) => [h('dt', {}, name), h('dd', {}, value)];

function age(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return t('secondsAgo', { n: s });
  if (s < 7200) return t('minutesAgo', { n: Math.round(s / 60) });
  if (s < 172800) return t('hoursAgo', { n: Math.round(s / 3600) });
  return t('daysAgo', { n: Math.round(s / 86400) });
}

// --- forensics (GET /forensics?identity=X|patient=P&since=T, T in Unix ms)

function forensicsSection() {
  const identity = field(t('forensicsIdentity'), { id: 'f-identity', autocomplete: 'off' });
  const patient = field(t('forensicsPatient'), { id: 'f-patient', autocomplete: 'off', placeholder: 'Patient/demo-mari' });
  const since = field(t('forensicsSince'), { id: 'f-since', type: 'datetime-local' });
  const out = h('div', { id: 'forensics-report', 'aria-live': 'polite' });
  const form = h('form', { class: 'stack' }, identity, patient, since, h('button', { type: 'submit' }, t('forensicsRun')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const [who, pat, when] = [...form.querySelectorAll('input')].map((i) => i.value.trim());
    const q = new URLSearchParams();
    if (who) q.set('identity', who);
    else if (pat) q.set('patient', pat);
    if (when) q.set('since', String(new Date(when).getTime()));
    replace(out, h('p', { class: 'pending' }, t('loading')));
    try {
      replace(out, report(await api.json(`/forensics?${q}`)));
    } catch (e) {
      replace(out, h('p', { role: 'alert', class: e.status === 404 ? 'warn' : 'bad' },
        e.status === 404 ? t('forensicsMissing') : t('error', { reason: e.message })));
    }
  });
  return section('forensics', t('forensicsTitle'), h('p', {}, t('forensicsIntro')), form, out);
}

const time = (v) => (typeof v === 'number' ? formatTime(v) : String(v ?? ''));
const short = (hex) => (hex ? `${hex.slice(0, 16)}…` : '');
const list = (v) => (Array.isArray(v) ? v.join(', ') : String(v ?? ''));

function report(r) {
  return [
    h('p', { class: 'muted' }, t('forensicsGenerated', { time: time(r.generated), since: time(r.since), until: time(r.until) })),
    table(t('forensicsAltered'), ['colIndex', 'colKind', 'colResource', 'colCommitted', 'colFound', 'colSummary'],
      r.altered, (a) => [a.index, a.kind, a.resource, short(a.committed), short(a.found), a.summary], 'altered'),
    table(t('forensicsAccesses'), ['colIndex', 'colTime', 'colWho', 'colRole', 'colAction', 'colOutcome', 'colRule', 'colPurpose', 'colWhat', 'colPatient'],
      r.accesses, (a) => [a.index, time(a.time), a.who, a.role, a.op, a.outcome, a.rule, a.purpose, list(a.resources), list(a.patients)],
      (a) => (a.rule === 'break-glass' ? 'break-glass' : a.outcome === 'denied' ? 'refused' : null)),
    table(t('forensicsPatients'), ['colPatient', 'colCount', 'colFirst', 'colLast'], r.patients,
      (p) => [p.patient, p.accesses, time(p.first), time(p.last)]),
    table(t('forensicsIdentities'), ['colWho', 'colRole', 'colCount', 'colFirst', 'colLast'], r.identities,
      (p) => [p.who, p.role, p.accesses, time(p.first), time(p.last)]),
  ];
}

function table(title, columns, rows = [], cells, rowClass = null) {
  return h('div', { class: 'group' }, h('h3', {}, `${title} (${rows.length})`),
    rows.length === 0 ? h('p', { class: 'muted' }, t('forensicsNothing')) : h('div', { class: 'table-wrap' }, h('table', {},
      h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col' }, t(c))))),
      h('tbody', {}, rows.map((r) => h('tr', { class: typeof rowClass === 'function' ? rowClass(r) : rowClass },
        cells(r).map((c, i) => h('td', { 'data-label': t(columns[i]) }, String(c ?? '')))))))));
}
