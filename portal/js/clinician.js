// The clinician's view: find a patient, read and add observations. Without a care relation the
// server answers 403 and names the break-glass header; the page then asks for a reason, says who
// will see it, and sends it (X-Medseal-Break-Glass) with every request for that patient.
import { h, replace, section, field, announce } from './dom.js';
import { t } from '../strings.js';
import * as api from './api.js';
import { label } from './records.js';

const BREAK_GLASS = 'X-Medseal-Break-Glass';

export function showClinician(main) {
  const input = h('input', { id: 'patient-id', required: true, autocomplete: 'off', placeholder: 'demo-mari' });
  const result = h('div', { id: 'patient-view' });
  const form = h('form', { class: 'inline' },
    h('label', { class: 'field', for: 'patient-id' }, h('span', {}, t('patientIdLabel')), input),
    h('button', { type: 'submit' }, t('open')));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    openPatient(result, input.value.trim().replace(/^Patient\//, ''), null);
  });
  replace(main, section('find', t('findPatient'), form), result);
  input.focus();
}

async function openPatient(out, id, reason) {
  const headers = reason ? { [BREAK_GLASS]: reason } : {};
  replace(out, h('p', { class: 'pending' }, t('loading')));
  try {
    const patient = await api.json(`/fhir/Patient/${encodeURIComponent(id)}`, { headers });
    const observations = await api.searchAll(`/fhir/Observation?patient=Patient/${encodeURIComponent(id)}&_count=200`, { headers });
    replace(out, patientView(out, patient, observations, headers, reason));
  } catch (e) {
    if (e.status === 403 && e.message.includes(BREAK_GLASS)) return askReason(out, id);
    replace(out, h('p', { role: 'alert', class: 'bad' }, e.status === 404 ? t('notFound') : t('error', { reason: e.message })));
  }
}

// The break-glass dialog: a reason, and plainly who will see it.
function askReason(out, id) {
  const reason = h('input', { id: 'break-glass-reason', required: true, maxlength: 200, autocomplete: 'off' });
  const form = h('form', { class: 'break-glass', role: 'alertdialog', 'aria-labelledby': 'bg-h', 'aria-describedby': 'bg-text' },
    h('h3', { id: 'bg-h' }, t('noRelationTitle')),
    h('p', { id: 'bg-text' }, t('noRelationText')),
    h('label', { class: 'field', for: 'break-glass-reason' }, h('span', {}, t('reasonLabel')), reason),
    h('div', { class: 'buttons' },
      h('button', { type: 'submit', class: 'danger' }, t('breakGlassButton')),
      h('button', { type: 'button', onclick: () => replace(out) }, t('cancel'))));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    openPatient(out, id, reason.value.trim());
  });
  replace(out, form);
  reason.focus();
}

function patientView(out, patient, observations, headers, reason) {
  const ref = `Patient/${patient.id}`;
  return [
    section('patient', t('patientHeading', { name: label(patient).title }),
      reason ? h('p', { class: 'warn' }, t('breakGlassActive', { reason })) : null),
    section('observations', t('observationsTitle'),
      h('ul', { class: 'records' }, observations.map((o) => {
        const l = label(o);
        return h('li', { class: 'record' }, h('div', { class: 'record-head' }, h('strong', {}, l.title), h('span', {}, l.detail), h('time', {}, l.date)));
      }))),
    section('add-observation', t('addObservation'), observationForm(ref, headers, () => openPatient(out, patient.id, reason))),
  ];
}

function observationForm(patientRef, headers, reload) {
  const code = field(t('obsCode'), { id: 'obs-code', required: true });
  const value = field(t('obsValue'), { id: 'obs-value', required: true, type: 'number', step: 'any', inputmode: 'decimal' });
  const unit = field(t('obsUnit'), { id: 'obs-unit', required: true });
  const form = h('form', { class: 'stack' }, code, value, unit, h('button', { type: 'submit' }, t('save')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const [c, v, u] = [...form.querySelectorAll('input')].map((i) => i.value.trim());
    const created = await api.json('/fhir/Observation', { method: 'POST', headers, body: {
      resourceType: 'Observation', status: 'final', code: { text: c }, subject: { reference: patientRef },
      effectiveDateTime: new Date().toISOString(), valueQuantity: { value: Number(v), unit: u },
    } });
    announce(t('saved', { ref: `Observation/${created.id}` }));
    reload();
  });
  return form;
}
