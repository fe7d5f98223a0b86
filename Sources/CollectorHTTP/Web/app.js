// The web app: sign-in, the call list, and the player. Routes live in the URL's fragment
// (#/calls, #/call/{integration}/{interaction}), so the collector serves one page.
import { api, currentSession, signIn, signOut, ApiError } from './api.js';
import { el, clock, localTime } from './dom.js';
import { Player } from './player.js';
import { ReviewPanel } from './review.js';
import { showAdmin } from './admin.js';

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
  // A link for admins only; the API refuses the admin pages' calls to anyone else all the same.
  document.getElementById('admin-link').hidden = session?.user.role !== 'admin';
}

async function route() {
  showUser();
  player?.destroy();
  player = null;
  if (!session) return showSignIn();
  const [, page, integration, interaction] = (location.hash || '#/calls').split('/');
  try {
    if (page === 'call' && interaction) return await showCall(decodeURIComponent(integration), decodeURIComponent(interaction));
    if (page === 'admin') return await showAdmin(view, (integration ?? '').split('?')[0] || undefined);
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
  ['workstation', 'Workstation', 'text', ''], ['node_path', 'Team (node path)', 'text', '/emea/paris'],
  ['duration', 'Length (s)', 'text', '>60 or 30..120'],
  ['category', 'Category', 'text', 'complaint or !training'], ['score', 'QA score', 'text', '<70 or 80..100'],
  ['text', 'Words', 'text', 'in notes, fields, numbers'],
];
const CHOICES = [
  ['direction', 'Direction', ['', 'inbound', 'outbound', 'internal', '!outbound']],
  ['state', 'State', ['', 'active', 'ended']],
  ['has_screen', 'Screen', ['', 'true', 'false']], ['has_voice', 'Voice', ['', 'true', 'false']],
  ['has_notes', 'Notes', ['', 'true', 'false']],
];
const PAGE = 100;

async function showCalls() {
  const params = new URLSearchParams(location.hash.split('?')[1] ?? '');
  const names = [...SEARCH_FIELDS.map(([name]) => name), ...CHOICES.map(([name]) => name)];
  const form = el(
    'form', { class: 'search', id: 'search' },
    SEARCH_FIELDS.map(([name, label, type, placeholder]) =>
      el('label', {}, label, el('input', { name, type, value: params.get(name) ?? '', placeholder: placeholder || undefined }))),
    CHOICES.map(([name, label, options]) => el('label', {}, label,
      el('select', { name }, options.map((value) => el('option', { value, selected: (params.get(name) ?? '') === value },
        value === '' ? 'any' : value === 'true' ? 'with' : value === 'false' ? 'without' : value))))),
    el('button', { type: 'submit', class: 'primary' }, 'Search'),
  );
  const searchOf = (source) => {
    const query = new URLSearchParams();
    for (const name of names) if (source[name]?.value) query.set(name, source[name].value);
    return query;
  };
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    location.hash = `#/calls?${searchOf(form)}`;
  });
  const offset = Math.max(0, Number(params.get('offset')) || 0);
  const query = new URLSearchParams({ limit: String(PAGE), offset: String(offset) });
  for (const name of names) {
    const value = params.get(name);
    if (!value) continue;
    query.set(name, name === 'from' || name === 'to' ? new Date(value).toISOString() : value);
  }
  const [page, saved] = await Promise.all([api('GET', `/api/v1/calls?${query}`), api('GET', '/api/v1/searches')]);
  const calls = page.items;
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
      el('td', { class: 'numeric' }, call.qa_score ?? ''),
      el('td', { class: 'numeric' }, call.notes || ''),
      el('td', { class: 'mono' }, call.interaction_id));
  });
  // The search on show (what "Save search" keeps): the page's own terms, without its place in the pages.
  const shown = new URLSearchParams(params);
  shown.delete('offset');
  const moveTo = (next) => {
    const target = new URLSearchParams(params);
    if (next > 0) target.set('offset', String(next)); else target.delete('offset');
    location.hash = `#/calls?${target}`;
  };
  const pager = el('nav', { class: 'pager', 'aria-label': 'Pages' },
    el('button', { type: 'button', disabled: offset === 0, onclick: () => moveTo(Math.max(0, offset - PAGE)) }, '← Newer'),
    el('span', {}, calls.length ? `${offset + 1}–${offset + calls.length}` : ''),
    el('button', { type: 'button', id: 'older', disabled: page.next_offset === undefined || page.next_offset === null,
      onclick: () => moveTo(page.next_offset) }, 'Older →'));
  view.replaceChildren(
    el('h1', {}, 'Calls'), savedSearches(saved.items, shown), form,
    calls.length === 0
      ? el('p', { class: 'empty' }, 'No calls match (only calls of agents in your reach are listed).')
      : el('table', { class: 'calls', id: 'calls' },
        el('thead', {}, el('tr', {}, ['Started', 'Length', 'Agents', 'Direction', 'ANI', 'DNIS', 'Queue', 'Legs', 'Screen', 'Score', 'Notes', 'Interaction'].map((h) => el('th', {}, h)))),
        el('tbody', {}, rows)),
    calls.length ? pager : null,
  );
}

/// The user's saved searches: pick one to run it, or save the search shown under a name.
function savedSearches(items, current) {
  const message = el('span', { class: 'error', role: 'alert' });
  const pick = el('select', { 'aria-label': 'Saved searches', id: 'saved-searches' },
    el('option', { value: '' }, items.length ? 'Saved searches…' : 'No saved searches'),
    items.map((item) => el('option', { value: item.query }, item.name)));
  pick.addEventListener('change', () => { if (pick.value !== '') location.hash = `#/calls?${pick.value}`; });
  const name = el('input', { name: 'search-name', placeholder: 'Name this search', 'aria-label': 'Name of the search', maxlength: '80' });
  const save = el('button', { type: 'button', id: 'save-search' }, 'Save search');
  save.addEventListener('click', async () => {
    message.textContent = '';
    try {
      await api('PUT', '/api/v1/searches', { name: name.value, query: current.toString() });
      route();
    } catch (error) { message.textContent = error.message; }
  });
  const remove = el('button', { type: 'button', class: 'link', disabled: !items.length }, 'Delete');
  remove.addEventListener('click', async () => {
    const chosen = items.find((item) => item.query === pick.value);
    if (!chosen) { message.textContent = 'Pick a saved search to delete'; return; }
    try { await api('DELETE', `/api/v1/searches/${encodeURIComponent(chosen.name)}`); route(); } catch (error) { message.textContent = error.message; }
  });
  return el('div', { class: 'saved' }, pick, remove, name, save, message);
}

async function showCall(integration, interaction) {
  const call = { integration, interaction_id: interaction };
  view.replaceChildren(el('p', {}, 'Opening the call…'));
  player = await Player.open(call);
  const review = await ReviewPanel.open(player, session);
  player.onNoteKey = () => review.focusNote();
  view.replaceChildren(
    el('p', {}, el('a', { href: '#/calls' }, '← Calls')),
    player.element, review.element);
  window.player = player;
}

start();
