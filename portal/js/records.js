// Reading FHIR resources and AuditEvents into what the pages show: a one-line label per record,
// and the access trail as plain rows. Pure functions over parsed JSON.

function codeText(c) {
  if (!c) return '';
  return c.text ?? c.coding?.find((x) => x.display)?.display ?? c.coding?.[0]?.code ?? '';
}

function valueText(r) {
  const q = r.valueQuantity;
  if (q) return `${q.value ?? ''} ${q.unit ?? q.code ?? ''}`.trim();
  if (r.valueString !== undefined) return r.valueString;
  if (r.valueCodeableConcept) return codeText(r.valueCodeableConcept);
  if (r.component) return r.component.map((c) => `${codeText(c.code)} ${valueText(c)}`).join(', ');
  return '';
}

function humanName(r) {
  const n = r.name?.[0];
  if (!n) return r.id;
  return n.text ?? [...(n.given ?? []), n.family ?? ''].join(' ').trim();
}

// {title, detail, date} for a record of any kind the portal shows.
export function label(r) {
  if (r.resourceType === 'Patient') return { title: humanName(r), detail: r.birthDate ?? '', date: '' };
  const title = codeText(r.code ?? r.vaccineCode ?? r.medicationCodeableConcept ?? r.type?.[0])
    || r.class?.display || r.class?.code || r.resourceType;
  const status = codeText(r.clinicalStatus) || r.status || '';
  const date = r.effectiveDateTime ?? r.onsetDateTime ?? r.authoredOn ?? r.occurrenceDateTime
    ?? r.period?.start ?? r.recordedDate ?? r.effectivePeriod?.start ?? '';
  return { title, detail: [valueText(r), status].filter(Boolean).join(' · '), date: String(date).slice(0, 16).replace('T', ' ') };
}

const extension = (e, url) => e.extension?.find((x) => x.url === url);

// One access-trail row from an AuditEvent (server/fhir_render.h).
export function trailRow(e) {
  const agent = e.agent?.[0] ?? {};
  const purpose = agent.purposeOfUse?.[0];
  const refs = (e.entity ?? []).filter((x) => x.role?.code !== '1').map((x) => x.what?.reference ?? x.what?.display ?? '');
  const rule = extension(e, 'urn:medseal:rule')?.valueCode ?? '';
  return {
    index: Number(extension(e, 'urn:medseal:ledger-index')?.valueIdentifier?.value ?? e.id.replace('ledger-', '')),
    time: Date.parse(e.recorded),
    who: agent.who?.display ?? '',
    role: agent.role?.[0]?.text ?? '',
    op: opOf(e),
    what: refs,
    purpose: purpose?.coding?.[0]?.code ?? purpose?.text ?? '',
    refused: e.outcome !== '0',
    refusal: e.outcomeDesc ?? '',
    rule,
    breakGlass: rule === 'break-glass',
    reason: extension(e, 'urn:medseal:break-glass-reason')?.valueString ?? '',
  };
}

// The statement's operation back from the AuditEvent's codes (fhir_render.h's table).
function opOf(e) {
  const sub = e.subtype?.[0]?.code ?? '';
  const byCode = { create: 'create', update: 'update', delete: 'delete', read: 'read', vread: 'vread',
    'history-instance': 'history', 'history-type': 'history' };
  if (byCode[sub]) return byCode[sub];
  if (sub === 'search-type') return (e.entity ?? []).some((x) => x.role?.code !== '1') ? 'search' : 'audit';
  if (sub === 'operation') return e.action === 'D' ? 'erase' : e.action === 'R' ? 'receipt' : 'operation';
  return sub;
}

// Who wrote each version: "Type/id/_history/N" -> {who, role, time, op, index}, from the trail's
// create, update and delete entries.
export function writesByVersion(rows) {
  const out = new Map();
  for (const r of rows) {
    if (r.refused || !['create', 'update', 'delete'].includes(r.op)) continue;
    for (const ref of r.what) if (/\/_history\/\d+$/.test(ref) && !out.has(ref)) out.set(ref, r);
  }
  return out;
}

// True if the row matches every word of `filter` (case-insensitive) in any of its columns.
export function matches(row, filter) {
  const hay = [row.who, row.role, row.op, row.what.join(' '), row.purpose, row.rule, row.reason, String(row.index)]
    .join(' ').toLowerCase();
  return filter.toLowerCase().split(/\s+/).filter(Boolean).every((w) => hay.includes(w));
}
