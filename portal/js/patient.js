// The patient's view: my records by kind with their versions and who made each change, the
// access trail, Verify buttons, and blocking a clinician (a Consent with provision.type "deny",
// records/policy.h).
import { h, replace, section, field, formatTime, announce } from './dom.js';
import { t } from '../strings.js';
import * as api from './api.js';
import { label, trailRow, writesByVersion, matches } from './records.js';
import { verifyInto, opWord } from './proof.js';

const KINDS = [
  { key: 'kindConditions', types: ['Condition'] },
  { key: 'kindMedications', types: ['MedicationRequest', 'MedicationStatement'] },
  { key: 'kindObservations', types: ['Observation'] },
  { key: 'kindEncounters', types: ['Encounter'] },
  { key: 'kindImmunizations', types: ['Immunization'] },
  { key: 'kindAllergies', types: ['AllergyIntolerance'] },
];

export async function showPatient(main, me) {
  const patient = me.patient;
  replace(main, h('p', { class: 'pending' }, t('loading')));
  const [self, kinds, consents] = await Promise.all([
    api.json(`/fhir/${patient}`),
    Promise.all(KINDS.map(async (k) => ({
      ...k,
      records: (await Promise.all(k.types.map((type) => api.searchAll(`/fhir/${type}?patient=${patient}&_count=200`)))).flat(),
    }))),
    api.searchAll(`/fhir/Consent?patient=${patient}&_count=200`),
  ]);
  // The trail after the reads above, so that it shows them too.
  const trail = (await api.searchAll(`/fhir/AuditEvent?patient=${patient}&_count=500`, { maxPages: 10 })).map(trailRow);
  const writes = writesByVersion(trail);
  replace(main,
    section('records', t('myRecords'),
      recordGroup({ key: 'kindPatient', records: [self] }, writes),
      KINDS.map((_, i) => recordGroup(kinds[i], writes))),
    trailSection(trail, me),
    blockSection(patient, consents, () => showPatient(main, me)));
}

function recordGroup(kind, writes) {
  return h('div', { class: 'group' },
    h('h3', {}, `${t(kind.key)} (${kind.records.length})`),
    kind.records.length === 0 ? h('p', { class: 'muted' }, t('noRecords')) : h('ul', { class: 'records' }, kind.records.map((r) => recordItem(r, writes))));
}

function recordItem(r, writes) {
  const l = label(r);
  const current = Number(r.meta?.versionId ?? 1);
  const versions = [];
  for (let v = current; v >= 1; v--) versions.push(versionItem(r.resourceType, r.id, v, writes.get(`${r.resourceType}/${r.id}/_history/${v}`)));
  return h('li', { class: 'record' },
    h('div', { class: 'record-head' }, h('strong', {}, l.title), l.detail ? h('span', {}, l.detail) : null, l.date ? h('time', {}, l.date) : null),
    h('details', {}, h('summary', {}, `${t('versionHistory')} (${current})`), h('ol', { class: 'versions', reversed: true }, versions)));
}

function versionItem(type, id, version, write) {
  const ref = `${type}/${id}/_history/${version}`;
  const out = h('div', { class: 'proof', hidden: true, 'aria-live': 'polite' });
  const action = { create: 'actionCreated', update: 'actionUpdated', delete: 'actionDeleted' }[write?.op] ?? 'actionUpdated';
  return h('li', {},
    h('span', {}, t('versionLine', {
      version, when: write ? formatTime(write.time) : '?', action: t(action), who: write ? write.who : t('unknownWho'),
    })),
    ' ',
    h('button', { type: 'button', class: 'verify', 'data-ref': ref,
      onclick: () => verifyInto(out, { receiptPath: `/fhir/${ref}/$receipt`, recordPath: `/fhir/${ref}`, ref }) }, t('verify')),
    out);
}

function trailSection(rows, me) {
  const body = h('tbody');
  const count = h('p', { class: 'muted', 'aria-live': 'polite' });
  const filter = h('input', { type: 'search', id: 'trail-filter' });
  const flagged = h('input', { type: 'checkbox', id: 'trail-flagged' });
  const hideOwn = h('input', { type: 'checkbox', id: 'trail-hide-own', checked: true });
  const render = () => {
    const shown = rows.filter((r) => matches(r, filter.value) && (!flagged.checked || r.breakGlass || r.refused)
      && !(hideOwn.checked && r.who === me.name));
    replace(body, shown.length ? shown.map(trailLine) : h('tr', {}, h('td', { colspan: 7 }, t('trailEmpty'))));
    count.textContent = t('trailCount', { shown: shown.length, total: rows.length });
  };
  for (const input of [filter, flagged, hideOwn]) input.addEventListener(input === filter ? 'input' : 'change', render);
  render();
  return section('trail', t('trailTitle'),
    h('p', {}, t('trailIntro')),
    h('div', { class: 'filters' },
      h('label', { class: 'field', for: 'trail-filter' }, h('span', {}, t('filterLabel')), filter),
      h('label', { class: 'check', for: 'trail-flagged' }, flagged, ' ', t('onlyFlagged')),
      h('label', { class: 'check', for: 'trail-hide-own' }, hideOwn, ' ', t('hideOwn'))),
    count,
    h('div', { class: 'table-wrap' }, h('table', { class: 'trail' },
      h('caption', { class: 'sr-only' }, t('trailTitle')),
      h('thead', {}, h('tr', {}, ['colWhen', 'colWho', 'colRole', 'colWhat', 'colAction', 'colPurpose', 'colOutcome']
        .map((c) => h('th', { scope: 'col' }, t(c))))),
      body)));
}

// "Observation/demo-bp/_history/1" -> "Observation/demo-bp v1".
const shortRef = (ref) => ref.replace(/\/_history\/(\d+)$/, ' v$1');

// A row of the trail, and below it a full-width row for its proof.
function trailLine(r) {
  const out = h('div', { class: 'proof', id: `proof-${r.index}`, hidden: true, 'aria-live': 'polite' });
  const proofRow = h('tr', { class: 'proof-row', hidden: true }, h('td', { colspan: 7 }, out));
  const flags = [r.breakGlass ? 'break-glass' : '', r.refused ? 'refused' : ''].filter(Boolean).join(' ');
  const verify = h('button', { type: 'button', class: 'verify', 'aria-controls': `proof-${r.index}`, onclick: () => {
    proofRow.hidden = false;
    verifyInto(out, { receiptPath: `/ledger/receipts/${r.index}` });
  } }, t('verify'));
  return [h('tr', { class: flags || null, dataset: { index: r.index } },
    h('td', { 'data-label': t('colWhen') }, formatTime(r.time)),
    h('td', { 'data-label': t('colWho') }, r.who),
    h('td', { 'data-label': t('colRole') }, r.role),
    h('td', { 'data-label': t('colWhat'), class: 'what' }, r.what.map(shortRef).join(', ')),
    h('td', { 'data-label': t('colAction') }, opWord(r.op)),
    h('td', { 'data-label': t('colPurpose') }, r.breakGlass ? t('breakGlass', { reason: r.reason || r.purpose }) : r.purpose),
    h('td', { 'data-label': t('colOutcome') },
      h('span', {}, r.refused ? `${t('outcomeRefused')}${r.refusal ? `: ${r.refusal}` : ''}` : t('outcomeOk')), ' ', verify)),
    proofRow];
}

// Blocks are active deny Consents in the patient's compartment; unblocking makes one inactive.
function blockSection(patient, consents, reload) {
  const blocks = consents.filter((c) => c.status === 'active' && c.provision?.type === 'deny');
  const input = h('input', { id: 'block-who', required: true, autocomplete: 'off' });
  const form = h('form', { class: 'inline' }, h('label', { class: 'field', for: 'block-who' }, h('span', {}, t('blockLabel')), input),
    h('button', { type: 'submit' }, t('block')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const actor = actorOf(input.value.trim());
    await api.json('/fhir/Consent', { method: 'POST', body: consent(patient, actor) });
    announce(t('blockDone', { actor }));
    reload();
  });
  return section('blocks', t('blockTitle'), h('p', {}, t('blockIntro')),
    blocks.length === 0 ? h('p', { class: 'muted' }, t('noBlocks')) : h('ul', {}, blocks.map((c) => {
      const actor = c.provision.actor?.[0]?.reference?.reference ?? '?';
      return h('li', {}, t('blocked', { actor }), ' ', h('button', { type: 'button', onclick: async () => {
        await api.json(`/fhir/Consent/${c.id}`, { method: 'PUT', body: { ...c, status: 'inactive' },
          headers: { 'If-Match': `W/"${c.meta.versionId}"` } });
        announce(t('unblockDone', { actor }));
        reload();
      } }, t('unblock')));
    })),
    form);
}

// "dr.kask@hospital" is Practitioner/dr.kask (records/policy.h); a reference is taken as it is.
function actorOf(text) {
  if (/^(Practitioner|Organization)\//.test(text)) return text;
  return `Practitioner/${text.split('@')[0]}`;
}

function consent(patient, actor) {
  return {
    resourceType: 'Consent', status: 'active', scope: { text: 'patient-privacy' }, category: [{ text: 'access' }],
    patient: { reference: patient },
    provision: { type: 'deny', actor: [{ role: { text: 'access' }, reference: { reference: actor } }] },
  };
}
