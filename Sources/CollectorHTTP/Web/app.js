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

async function showCalls() {
  const params = new URLSearchParams(location.hash.split('?')[1] ?? '');
  const form = el(
    'form', { class: 'search', id: 'search' },
    el('label', {}, 'From', el('input', { name: 'from', type: 'datetime-local', value: params.get('from') ?? '' })),
    el('label', {}, 'To', el('input', { name: 'to', type: 'datetime-local', value: params.get('to') ?? '' })),
    el('label', {}, 'Agent', el('input', { name: 'agent', value: params.get('agent') ?? '', placeholder: 'phone-system id' })),
    el('label', {}, 'Workstation', el('input', { name: 'workstation', value: params.get('workstation') ?? '' })),
    el('label', {}, 'State',
      el('select', { name: 'state' },
        ['', 'active', 'ended'].map((state) => el('option', { value: state, selected: params.get('state') === state }, state || 'any')))),
    el('button', { type: 'submit' }, 'Search'),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const query = new URLSearchParams();
    for (const name of ['from', 'to', 'agent', 'workstation', 'state']) if (form[name].value) query.set(name, form[name].value);
    location.hash = `#/calls?${query}`;
  });
  const query = new URLSearchParams({ limit: '100' });
  for (const name of ['agent', 'workstation', 'state']) if (params.get(name)) query.set(name, params.get(name));
  for (const name of ['from', 'to']) if (params.get(name)) query.set(name, new Date(params.get(name)).toISOString());
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
      el('td', { class: 'numeric' }, call.legs.length),
      el('td', { class: 'numeric' }, call.segments),
      el('td', { class: 'mono' }, call.interaction_id));
  });
  view.replaceChildren(
    el('h1', {}, 'Calls'), form,
    calls.length === 0
      ? el('p', { class: 'empty' }, 'No calls match (only calls of agents in your reach are listed).')
      : el('table', { class: 'calls', id: 'calls' },
        el('thead', {}, el('tr', {}, ['Started', 'Length', 'Agents', 'Direction', 'ANI', 'DNIS', 'Legs', 'Screen', 'Interaction'].map((h) => el('th', {}, h)))),
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
