// The admin pages: each section lists what the collector has and offers the changes the API allows.
// Every change goes through the same API as the CLI and is audited there; secrets shown once (an
// enrolment code, an integration's token) are shown once here too.
import { api } from './api.js';
import { el, localTime } from './dom.js';

const SECTIONS = [
  ['agents', 'Agents'], ['enrolment', 'Enrolment'], ['node-paths', 'Node paths'], ['storage', 'Storage'],
  ['integrations', 'Integrations'], ['keys', 'Recording keys'], ['users', 'Users'], ['review', 'Review'], ['audit', 'Audit'],
];

export async function showAdmin(view, section = 'agents') {
  const known = SECTIONS.find(([id]) => id === section) ? section : 'agents';
  const nav = el('nav', { class: 'tabs', 'aria-label': 'Admin sections' }, SECTIONS.map(([id, title]) =>
    el('a', { href: `#/admin/${id}`, class: id === known ? 'tab on' : 'tab', 'aria-current': id === known ? 'page' : undefined }, title)));
  const body = el('section', { class: 'admin', id: `admin-${known}` });
  view.replaceChildren(el('h1', {}, 'Administration'), nav, body);
  // Redrawn after a change only while the page is still this section (not after the user left).
  const rerender = () => {
    if ((location.hash || '').startsWith(`#/admin/${known}`) || (known === 'agents' && location.hash === '#/admin')) {
      showAdmin(view, known).catch((error) => view.replaceChildren(el('p', { class: 'error', role: 'alert' }, error.message)));
    }
  };
  await PAGES[known](body, rerender);
}

// MARK: - Building blocks

function table(id, headings, rows) {
  if (!rows.length) return el('p', { class: 'empty' }, 'None yet.');
  return el('table', { class: 'calls admin-table', id },
    el('thead', {}, el('tr', {}, headings.map((h) => el('th', {}, h)))),
    el('tbody', {}, rows.map((cells) => el('tr', {}, cells.map((cell) => el('td', {}, cell))))));
}

/// A form whose submit calls `send(values)`; the answer (or error) shows under it.
function form(id, title, fields, send, submit = 'Add') {
  const message = el('p', { class: 'message', role: 'status' });
  const inputs = fields.map(([name, label, kind = 'text', options = {}]) => {
    const input = kind === 'select'
      ? el('select', { name }, options.choices.map((c) => el('option', { value: c }, c)))
      : kind === 'textarea'
        ? el('textarea', { name, rows: options.rows ?? '4', placeholder: options.placeholder })
        : el('input', { name, type: kind, placeholder: options.placeholder, required: options.required ?? false,
          autocomplete: kind === 'password' ? 'new-password' : 'off' });
    if (options.value !== undefined) input.value = options.value;
    return el('label', {}, label, input);
  });
  const node = el('form', { class: 'admin-form', id }, el('h2', {}, title), el('div', { class: 'fields-row' }, inputs),
    el('button', { type: 'submit', class: 'primary' }, submit), message);
  node.addEventListener('submit', async (event) => {
    event.preventDefault();
    message.className = 'message';
    message.textContent = '';
    const values = Object.fromEntries(fields.map(([name]) => [name, node[name].value]));
    try {
      const shown = await send(values);
      if (shown) { message.textContent = shown; message.classList.add('ok'); } else node.dispatchEvent(new Event('saved'));
    } catch (error) {
      message.textContent = error.message;
      message.classList.add('error');
    }
  });
  return node;
}

/// A button for one row's action; errors show beside it.
function action(label, work, done, confirmation) {
  const button = el('button', { type: 'button' }, label);
  button.addEventListener('click', async () => {
    if (confirmation && !window.confirm(confirmation)) return;
    button.disabled = true;
    try { await work(); done(); } catch (error) {
      button.replaceWith(el('span', { class: 'error' }, error.message));
    }
  });
  return button;
}

const enc = encodeURIComponent;
const lines = (text) => text.split(/[\n,]/).map((s) => s.trim()).filter(Boolean);

// MARK: - The sections

const PAGES = {
  async agents(body, again) {
    const agents = (await api('GET', '/api/v1/admin/agents')).items;
    body.append(table('agents', ['Agent', 'Node path', 'Host', 'Health', 'Clock offset', 'Spool', 'Segments', 'Last seen', ''],
      agents.map((agent) => [
        el('span', { class: 'mono' }, agent.id), agent.node_path, agent.hostname,
        agent.revoked_at ? el('span', { class: 'error' }, 'revoked') : (agent.health?.verdict ?? agent.health?.state ?? 'no heartbeat yet'),
        agent.health ? `${agent.health.clock_offset_ms} ms` : '–',
        agent.health ? `${agent.health.spool_segments} (${Math.round(agent.health.spool_bytes / 1024)} KiB)` : '–',
        agent.segments ? `${agent.segments.segments}${agent.segments.broken ? `, ${agent.segments.broken} broken` : ''}${agent.segments.pending ? `, ${agent.segments.pending} pending` : ''}` : '0',
        localTime(agent.last_seen_at),
        agent.revoked_at
          ? action('Allow re-enrolment', () => api('POST', `/api/v1/admin/agents/${enc(agent.id)}/allow-reenrolment`), again)
          : action('Revoke', () => api('POST', `/api/v1/admin/agents/${enc(agent.id)}/revoke`), again,
            `Revoke ${agent.id}? It stops recording until it is enrolled again.`),
      ])));
  },

  async enrolment(body) {
    const paths = (await api('GET', '/api/v1/admin/node-paths')).items.map((p) => p.path);
    body.append(form('enrolment-form', 'One-time enrolment code', [
      ['node_path', 'Node path', 'select', { choices: paths }],
      ['hours', 'Valid for (hours)', 'number', { value: '24' }],
    ], async (values) => {
      const code = await api('POST', '/api/v1/admin/enrolment-codes', { node_path: values.node_path, expires_in_hours: Number(values.hours) });
      return `Code ${code.code} for ${code.node_path}, valid until ${localTime(code.expires_at)}. It is shown once: recorder-agent enroll --code ${code.code}`;
    }, 'Create code'));
  },

  async 'node-paths'(body, again) {
    const [paths, targets] = await Promise.all([api('GET', '/api/v1/admin/node-paths'), api('GET', '/api/v1/admin/storage-targets')]);
    body.append(table('node-paths', ['Node path', 'Storage', 'Quota', 'Recording rules', 'Description', ''],
      paths.items.map((p) => [el('span', { class: 'mono' }, p.path), p.storage, p.quota_mb ? `${p.quota_mb} MB` : '–',
        p.recording_rules ? el('span', { class: 'mono' }, JSON.stringify(p.recording_rules)) : 'inherited', p.description,
        p.path === '/' ? '' : action('Delete', () => api('DELETE', `/api/v1/admin/node-paths${p.path.split('/').map(enc).join('/')}`), again)])));
    const add = form('node-path-form', 'Add a node path', [
      ['path', 'Path', 'text', { placeholder: '/emea/paris/sales', required: true }],
      ['storage', 'Storage', 'select', { choices: targets.items.map((t) => t.name) }],
      ['description', 'Description'],
      ['rules', 'Recording rules (JSON, optional)', 'textarea', { rows: '2', placeholder: '{"fps": 5}' }],
    ], async (values) => {
      const input = { path: values.path, storage: values.storage, description: values.description };
      if (values.rules.trim()) input.recording_rules = JSON.parse(values.rules);
      await api('POST', '/api/v1/admin/node-paths', input);
    });
    add.addEventListener('saved', again);
    body.append(add);
  },

  async storage(body, again) {
    const targets = (await api('GET', '/api/v1/admin/storage-targets')).items;
    const results = el('div', { class: 'probe', id: 'storage-test', role: 'status' });
    body.append(table('storage', ['Name', 'Kind', 'URL', 'Auth', 'Agent credentials', 'Updated', ''],
      targets.map((t) => [t.name, t.kind, t.url ?? 'this collector', t.auth + (t.has_secret ? ' (secret set)' : ''), t.agent_credentials,
        localTime(t.updated_at),
        el('span', {}, el('button', { type: 'button', onclick: async () => {
          results.replaceChildren(el('p', {}, `Testing ${t.name}…`));
          try {
            const report = await api('POST', `/api/v1/admin/storage-targets/${enc(t.name)}/test`);
            results.replaceChildren(el('h2', {}, `${report.target}: ${report.ok ? 'works' : 'fails'}`), el('ul', {},
              report.steps.map((step) => el('li', { class: step.ok ? 'ok' : 'error' }, `${step.ok ? '✓' : '✗'} ${step.name} (${step.milliseconds} ms) ${step.detail}`))));
          } catch (error) { results.replaceChildren(el('p', { class: 'error' }, error.message)); }
        } }, 'Test'),
        t.kind === 'builtin' ? null : action('Delete', () => api('DELETE', `/api/v1/admin/storage-targets/${enc(t.name)}`), again))])), results);
    const add = form('storage-form', 'Add a WebDAV storage target', [
      ['name', 'Name', 'text', { required: true }], ['url', 'URL (https)', 'url', { required: true, placeholder: 'https://dav.example.com/recordings/' }],
      ['auth', 'Authentication', 'select', { choices: ['basic', 'digest', 'bearer', 'none'] }],
      ['username', 'User name'], ['password', 'Password or token', 'password'],
    ], async (values) => {
      const input = { name: values.name, kind: 'webdav', url: values.url, auth: values.auth };
      if (values.auth === 'bearer') input.bearer_token = values.password;
      else if (values.auth !== 'none') { input.username = values.username; input.password = values.password; }
      await api('POST', '/api/v1/admin/storage-targets', input);
    });
    add.addEventListener('saved', again);
    body.append(add);
  },

  async integrations(body, again) {
    const integrations = (await api('GET', '/api/v1/admin/integrations')).items;
    body.append(table('integrations', ['Name', 'Kind', 'Workstation logins', 'Created', ''],
      integrations.map((i) => [i.name, i.kind, i.workstation_logins ? 'allowed' : 'no', `${localTime(i.created_at)} by ${i.created_by}`,
        i.revoked_at ? `revoked ${localTime(i.revoked_at)}` : action('Revoke', () => api('POST', `/api/v1/admin/integrations/${enc(i.name)}/revoke`), again,
          `Revoke ${i.name}? Its events are refused from now on.`)])));
    body.append(form('integration-form', 'Add an integration (a phone system or middleware)', [
      ['name', 'Name', 'text', { required: true }], ['kind', 'Kind', 'select', { choices: ['webhook', 'amazon-connect', 'genesys-cloud'] }],
    ], async (values) => {
      const created = await api('POST', '/api/v1/admin/integrations', { name: values.name, kind: values.kind });
      return `Token for ${created.integration.name}, shown once: ${created.token}`;
    }));
  },

  async keys(body, again) {
    const keys = (await api('GET', '/api/v1/admin/recording-keys')).items;
    body.append(el('p', { class: 'hint' }, 'Agents seal every segment for each active key. A new key takes effect at the agents\' next configuration fetch; a retired key still opens what was sealed for it.'));
    body.append(table('keys', ['Key', 'Created', 'State', ''], keys.map((k) => [el('span', { class: 'mono' }, k.id), localTime(k.created_at),
      k.retired_at ? `retired ${localTime(k.retired_at)}` : 'active',
      k.retired_at ? '' : action('Retire', () => api('POST', `/api/v1/admin/recording-keys/${enc(k.id)}/retire`), again,
        `Retire key ${k.id}? Agents stop sealing for it at their next configuration fetch.`)])));
    body.append(action('Add a recording key', () => api('POST', '/api/v1/admin/recording-keys'), again));
  },

  async users(body, again) {
    const users = (await api('GET', '/api/v1/admin/users')).items;
    body.append(table('users', ['User', 'Role', 'Node paths', 'Workstation', 'State', ''], users.map((u) => [u.username, u.role,
      u.scopes.join(', '), u.workstation ?? '', u.disabled ? 'disabled' : 'enabled',
      action(u.disabled ? 'Enable' : 'Disable', () => api('PATCH', `/api/v1/admin/users/${enc(u.username)}`, { disabled: !u.disabled }), again)])));
    const add = form('user-form', 'Add a user', [
      ['username', 'User name', 'text', { required: true }], ['password', 'Password (12+ characters)', 'password', { required: true }],
      ['role', 'Role', 'select', { choices: ['qa', 'supervisor', 'agent', 'admin'] }],
      ['scopes', 'Node paths (QA, supervisor)', 'text', { placeholder: '/emea/paris, /emea/lyon' }], ['workstation', 'Workstation (agent)'],
    ], async (values) => {
      const input = { username: values.username, password: values.password, role: values.role };
      if (values.role === 'qa' || values.role === 'supervisor') input.scopes = lines(values.scopes);
      if (values.role === 'agent' && values.workstation) input.workstation = values.workstation;
      await api('POST', '/api/v1/admin/users', input);
    });
    add.addEventListener('saved', again);
    body.append(add);
  },

  async review(body, again) {
    const [categories, forms, fields] = await Promise.all([api('GET', '/api/v1/admin/categories'),
      api('GET', '/api/v1/admin/evaluation-forms'), api('GET', '/api/v1/admin/custom-fields')]);
    body.append(el('h2', {}, 'Categories'), table('categories', ['Name', 'Description', ''], categories.items.map((c) => [c.name, c.description,
      action('Delete', () => api('DELETE', `/api/v1/admin/categories/${enc(c.name)}`), again)])));
    const category = form('category-form', 'Add a category', [['name', 'Name (a-z, 0-9, - _)', 'text', { required: true }], ['description', 'Description']],
      (values) => api('POST', '/api/v1/admin/categories', values).then(() => undefined));
    category.addEventListener('saved', again);
    body.append(category);
    body.append(el('h2', {}, 'Evaluation forms'), table('forms', ['Form', 'Title', 'Questions', 'Points', ''], forms.items.map((f) => [f.name, f.title,
      f.questions.map((q) => q.text).join(' · '), f.questions.reduce((sum, q) => sum + q.points, 0),
      f.retired ? 'retired' : action('Retire', () => api('POST', `/api/v1/admin/evaluation-forms/${enc(f.name)}/retire`), again)])));
    const evaluation = form('form-form', 'Add an evaluation form', [
      ['name', 'Name', 'text', { required: true }], ['title', 'Title', 'text', { required: true }],
      ['questions', 'Questions, one a line: id | text | yes_no or scale:max | points | optional', 'textarea',
        { rows: '4', placeholder: 'greeting | Greeted the caller by name | yes_no | 10\nresolution | Resolved the issue | scale:5 | 20' }],
    ], (values) => api('POST', '/api/v1/admin/evaluation-forms', {
      name: values.name, title: values.title,
      questions: values.questions.split('\n').map((line) => line.trim()).filter(Boolean).map((line) => {
        const [id, text, kind = 'yes_no', points = '10', optional] = line.split('|').map((part) => part.trim());
        const [type, max] = kind.split(':');
        const question = { id, text, kind: type, points: Number(points) };
        if (type === 'scale') question.max = Number(max);
        if (optional === 'optional') question.optional = true;
        return question;
      }),
    }).then(() => undefined));
    evaluation.addEventListener('saved', again);
    body.append(evaluation);
    body.append(el('h2', {}, 'Custom fields'), table('custom-fields', ['Field', 'Label', 'Kind', 'Choices', ''], fields.items.map((f) => [f.name, f.label,
      f.kind, f.choices.join(', '), action('Delete', () => api('DELETE', `/api/v1/admin/custom-fields/${enc(f.name)}`), again)])));
    const field = form('field-form', 'Add a custom field', [['name', 'Name', 'text', { required: true }], ['label', 'Label', 'text', { required: true }],
      ['kind', 'Kind', 'select', { choices: ['text', 'number', 'choice'] }], ['choices', 'Choices (choice fields)', 'text', { placeholder: 'resolved, escalated' }]],
    (values) => api('POST', '/api/v1/admin/custom-fields', { name: values.name, label: values.label, kind: values.kind,
      choices: values.kind === 'choice' ? lines(values.choices) : [] }).then(() => undefined));
    field.addEventListener('saved', again);
    body.append(field);
  },

  async audit(body) {
    const entries = (await api('GET', '/api/v1/admin/audit?limit=100')).items;
    const verdict = el('div', { class: 'probe', id: 'audit-verdict', role: 'status' });
    const verify = el('button', { type: 'button', class: 'primary', id: 'audit-verify' }, 'Verify the chain');
    verify.addEventListener('click', async () => {
      verdict.replaceChildren(el('p', {}, 'Verifying…'));
      try {
        const report = await api('POST', '/api/v1/admin/audit/verify');
        verdict.replaceChildren(el('p', { class: report.problem ? 'error' : 'ok' }, report.problem
          ? `The chain is broken: ${report.problem}`
          : `The chain holds: ${report.entries} entries${report.checkpoints !== undefined ? `, ${report.checkpoints} signed checkpoints` : ''}.`));
      } catch (error) { verdict.replaceChildren(el('p', { class: 'error' }, error.message)); }
    });
    body.append(el('div', { class: 'row' }, verify), verdict,
      table('audit', ['#', 'When', 'Who', 'What', 'Target', 'Detail', 'From'], entries.map((e) => [e.seq ?? '', localTime(e.at), e.actor,
        e.action, el('span', { class: 'mono' }, e.target), e.detail, e.source])));
  },
};
