// The portal's entry point: who is signed in (/portal/whoami, by token or client certificate),
// then the view of that role. Everything shown comes from the authenticated API.
import { h, replace, field, announce } from './dom.js';
import { t } from '../strings.js';
import * as api from './api.js';
import { showPatient } from './patient.js';
import { showClinician } from './clinician.js';
import { showAuditor } from './auditor.js';

const main = document.getElementById('main');
const who = document.getElementById('who');
const signOut = document.getElementById('sign-out');

function staticText() {
  document.title = t('appName');
  document.querySelector('.skip').textContent = t('skip');
  document.getElementById('app-name').textContent = t('appName');
  signOut.textContent = t('signOut');
  document.documentElement.lang = 'en';
}

async function start() {
  staticText();
  const res = await api.request('/portal/whoami');
  if (res.status === 401 || res.status === 429) {
    const reason = (await res.text()).trim();
    return showSignIn(api.session.token ? t('signInFailed', { reason }) : '');
  }
  if (!res.ok) return replace(main, h('p', { role: 'alert' }, t('error', { reason: `HTTP ${res.status}` })));
  const me = await res.json();
  who.textContent = t('signedInAs', { name: me.name, role: me.role });
  signOut.hidden = !api.session.token;
  document.body.dataset.role = me.role;
  try {
    if (me.role === 'patient') await showPatient(main, me);
    else if (me.role === 'clinician') showClinician(main);
    else {
      showAuditor(main);
      if (me.role === 'admin') main.prepend(h('p', { class: 'muted' }, t('roleAdmin')));
    }
  } catch (e) {
    replace(main, h('p', { role: 'alert', class: 'bad' }, t('error', { reason: e.message })));
  }
}

function showSignIn(message) {
  who.textContent = '';
  signOut.hidden = true;
  const token = field(t('tokenLabel'), { id: 'token', type: 'password', required: true, autocomplete: 'off' });
  const form = h('form', { class: 'stack sign-in' },
    h('h2', {}, t('signIn')), h('p', {}, t('signInIntro')),
    message ? h('p', { role: 'alert', class: 'bad' }, message) : null,
    token, h('button', { type: 'submit' }, t('signIn')));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    api.session.token = form.querySelector('input').value.trim();
    start();
  });
  replace(main, form);
  form.querySelector('input').focus();
}

signOut.addEventListener('click', () => {
  api.session.token = '';
  location.reload();
});

start().catch((e) => announce(t('error', { reason: e.message })));
