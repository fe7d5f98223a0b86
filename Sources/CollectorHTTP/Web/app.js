// The web app: sign-in, the call list, and the player. Routes live in the URL's fragment
// (#/calls, #/call/{integration}/{interaction}), so the collector serves one page.
import { api, currentSession, signIn, signOut, ApiError } from './api.js';
import { el, clock, localTime } from './dom.js';
import { Player } from './player.js';

const view = document.getElementById('view');
let session = null;
let player = null;

async function start() {
  document.getElementById('sign-out').addEventListener('click', async () => {
    await signOut();
    session = null;
    route();
  });
  window.addEventListener('hashchange', route);
  session = await currentSession();
  route();
}

function showUser() {
  const who = document.getElementById('who');
  who.hidden = !session;
  if (session) document.getElementById('user').textContent = `${session.user.username} · ${session.user.role}`;
}

async function route() {
  showUser();
  player?.destroy();
  player = null;
  if (!session) return showSignIn();
  const [, page, integration, interaction] = (location.hash || '#/calls').split('/');
  try {
    if (page === 'call' && interaction) return await showCall(decodeURIComponent(integration), decodeURIComponent(interaction));
    return await showCalls();
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      session = null;
      return route();
    }
    view.replaceChildren(el('p', { class: 'error', role: 'alert' }, error.message));
  }
}

function showSignIn() {
  const message = el('p', { class: 'error', role: 'alert' });
  const form = el(
    'form', { class: 'sign-in', id: 'sign-in' },
    el('h1', {}, 'Sign in'),
    el('label', {}, 'User name', el('input', { name: 'username', autocomplete: 'username', required: true, autofocus: true })),
    el('label', {}, 'Password', el('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true })),
    el('button', { type: 'submit' }, 'Sign in'),
    message,
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    message.textContent = '';
    try {
      session = await signIn(form.username.value, form.password.value);
      route();
    } catch (error) {
      message.textContent = error.message;
    }
  });
  view.replaceChildren(form);
}

const SEARCH_FIELDS = [
  ['from', 'From', 'datetime-local'], ['to', 'To', 'datetime-local'],
  ['ani', 'ANI', 'text', '+33* or a,b or !x'], ['dnis', 'DNIS', 'text', '3000'],
  ['queue', 'Queue', 'text', 'billing,sales'], ['agent', 'Agent', 'text', 'phone-system id'],
  ['workstation', 'Workstation', 'text', ''], ['duration', 'Length (s)', 'text', '>60 or 30..120'],
];
const CHOICES = [
  ['direction', 'Direction', ['', 'inbound', 'outbound', 'internal', '!outbound']],
  ['state', 'State', ['', 'active', 'ended']],
  ['has_screen', 'Screen', ['', 'true', 'false']], ['has_voice', 'Voice', ['', 'true', 'false']],
];

async function showCalls() {
  const params = new URLSearchParams(location.hash.split('?')[1] ?? '');
  const form = el(
    'form', { class: 'search', id: 'search' },
    SEARCH_FIELDS.map(([name, label, type, placeholder]) =>
      el('label', {}, label, el('input', { name, type, value: params.get(name) ?? '', placeholder: placeholder || undefined }))),
    CHOICES.map(([name, label, options]) => el('label', {}, label,
      el('select', { name }, options.map((value) => el('option', { value, selected: (params.get(name) ?? '') === value },
        value === '' ? 'any' : value === 'true' ? 'with' : value === 'false' ? 'without' : value))))),
    el('button', { type: 'submit' }, 'Search'),
  );
  const names = [...SEARCH_FIELDS.map(([name]) => name), ...CHOICES.map(([name]) => name)];
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const query = new URLSearchParams();
    for (const name of names) if (form[name].value) query.set(name, form[name].value);
    location.hash = `#/calls?${query}`;
  });
  const query = new URLSearchParams({ limit: '100' });
  for (const name of names) {
    const value = params.get(name);
    if (!value) continue;
    query.set(name, name === 'from' || name === 'to' ? new Date(value).toISOString() : value);
  }
  const calls = (await api('GET', `/api/v1/calls?${query}`)).items;
  const rows = calls.map((call) => {
    const start = call.started_at ? new Date(call.started_at) : null;
    const end = call.ended_at ? new Date(call.ended_at) : null;
    const agents = [...new Set(call.legs.map((leg) => leg.workstation ?? leg.agent).filter(Boolean))];
    const href = `#/call/${encodeURIComponent(call.integration)}/${encodeURIComponent(call.interaction_id)}`;
    return el('tr', {},
      el('td', {}, el('a', { href, class: 'call-link' }, localTime(call.started_at))),
      el('td', {}, start && end ? clock(end - start) : call.state),
      el('td', {}, agents.join(', ')),
      el('td', {}, call.direction ?? ''),
      el('td', {}, call.ani ?? ''),
      el('td', {}, call.dnis ?? ''),
      el('td', {}, call.queue ?? ''),
      el('td', { class: 'numeric' }, call.legs.length),
      el('td', { class: 'numeric' }, call.segments),
      el('td', { class: 'mono' }, call.interaction_id));
  });
  view.replaceChildren(
    el('h1', {}, 'Calls'), form,
    calls.length === 0
      ? el('p', { class: 'empty' }, 'No calls match (only calls of agents in your reach are listed).')
      : el('table', { class: 'calls', id: 'calls' },
        el('thead', {}, el('tr', {}, ['Started', 'Length', 'Agents', 'Direction', 'ANI', 'DNIS', 'Queue', 'Legs', 'Screen', 'Interaction'].map((h) => el('th', {}, h)))),
        el('tbody', {}, rows)),
  );
}

async function showCall(integration, interaction) {
  const call = { integration, interaction_id: interaction };
  view.replaceChildren(el('p', {}, 'Opening the call…'));
  player = await Player.open(call);
  view.replaceChildren(
    el('p', {}, el('a', { href: '#/calls' }, '← Calls')),
    player.element);
  window.player = player;
}

start();
