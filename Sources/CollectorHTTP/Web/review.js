// What a reviewer adds under the player: notes at moments of the call (click one to go there),
// categories, custom fields and an evaluation against one of the admins' forms. Everything is
// saved through the API at once; the page shows what the collector answered, never a guess.
import { api, callPath } from './api.js';
import { el, clock, localTime } from './dom.js';

export class ReviewPanel {
  static async open(player, session) {
    const [review, definitions] = await Promise.all([
      api('GET', callPath(player.call, '/review')), api('GET', '/api/v1/review/definitions')]);
    return new ReviewPanel(player, session, review, definitions);
  }

  constructor(player, session, review, definitions) {
    this.player = player;
    this.session = session;
    this.review = review;
    this.definitions = definitions;
    this.element = el('section', { class: 'review', id: 'review' });
    this.render();
  }

  async refresh() {
    this.review = await api('GET', callPath(this.player.call, '/review'));
    this.render();
  }

  render() {
    this.player.markNotes(this.review.notes);
    this.element.replaceChildren(
      el('div', { class: 'panel notes' }, el('h2', {}, 'Notes'), this.notesList(), this.review.can_edit ? this.noteForm() : null),
      el('div', { class: 'panel evaluation' }, el('h2', {}, 'Evaluation'), this.evaluations(),
        this.review.can_edit && this.definitions.forms.length ? this.evaluationForm() : null),
      el('div', { class: 'panel tags' }, el('h2', {}, 'Categories'), this.categories(),
        this.definitions.fields.length ? el('h2', {}, 'Fields') : null, this.fields()));
  }

  /// Saves, then shows the collector's answer (or its error beside the control).
  async save(message, work) {
    message.textContent = '';
    try {
      await work();
      await this.refresh();
    } catch (error) {
      message.textContent = error.message;
    }
  }

  // MARK: - Notes

  notesList() {
    if (!this.review.notes.length) return el('p', { class: 'empty' }, 'No notes yet.');
    const me = this.session.user;
    return el('ol', { class: 'note-list', id: 'notes' }, this.review.notes.map((note) => el('li', { class: 'note' },
      note.at_ms === null
        ? el('span', { class: 'note-at whole' }, 'call')
        : el('button', { type: 'button', class: 'note-at mono', title: 'Go to this moment',
          onclick: () => this.player.seek(note.at_ms / 1000) }, clock(note.at_ms)),
      el('div', { class: 'note-body' },
        el('p', { class: 'note-text' }, note.text),
        el('p', { class: 'note-meta' }, `${note.author} · ${localTime(note.created_at)}`,
          this.review.can_edit && (note.author === me.username || me.role === 'admin')
            ? el('button', { type: 'button', class: 'link', onclick: (event) => this.save(event.target.parentNode, () =>
              api('DELETE', callPath(this.player.call, `/notes/${note.id}`))) }, 'Delete')
            : null)))));
  }

  noteForm() {
    const message = el('p', { class: 'error', role: 'alert' });
    const at = el('input', { type: 'checkbox', name: 'at', checked: true });
    const text = el('textarea', { name: 'text', rows: '3', maxlength: '4000', required: true,
      placeholder: 'What happened here (N)', 'aria-label': 'Note' });
    // The moment a note is about: where the call was when the reviewer began writing it (N or a
    // click into the box), shown beside the box; until then, wherever the call is.
    let pinned = null;
    const when = el('span', { class: 'mono' }, clock(this.player.t * 1000));
    this.player.onDraw = (t) => { if (pinned === null) when.textContent = clock(t * 1000); };
    text.addEventListener('focus', () => { if (pinned === null) { pinned = this.player.now(); when.textContent = clock(pinned * 1000); } });
    text.addEventListener('blur', () => { if (!text.value) pinned = null; });
    const form = el('form', { class: 'note-form', id: 'note-form' }, text,
      el('div', { class: 'row' }, el('label', {}, at, ' at ', when), el('button', { type: 'submit', class: 'primary' }, 'Add note')),
      message);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const body = { text: text.value };
      if (at.checked) body.at_ms = Math.round((pinned ?? this.player.now()) * 1000);
      this.save(message, () => api('POST', callPath(this.player.call, '/notes'), body));
    });
    this.noteText = text;
    return form;
  }

  focusNote() { this.noteText?.focus(); }

  // MARK: - Evaluations

  evaluations() {
    if (!this.review.evaluations.length) return el('p', { class: 'empty' }, 'Not evaluated yet.');
    return el('ul', { class: 'evaluation-list', id: 'evaluations' }, this.review.evaluations.map((evaluation) => el('li', {},
      el('details', {},
        el('summary', {}, el('strong', { class: 'score' }, `${evaluation.score} %`), ` ${evaluation.form.title} · ${evaluation.evaluator} · ${localTime(evaluation.created_at)}`),
        el('ul', { class: 'answers' }, evaluation.form.questions.map((question) =>
          el('li', {}, `${question.text}: `, el('strong', {}, String(evaluation.answers[question.id] ?? '–'))))),
        evaluation.comment ? el('p', { class: 'note-text' }, evaluation.comment) : null))));
  }

  evaluationForm() {
    const forms = this.definitions.forms;
    const message = el('p', { class: 'error', role: 'alert' });
    const choice = el('select', { name: 'form', 'aria-label': 'Form' }, forms.map((form) => el('option', { value: form.name }, form.title)));
    const questions = el('div', { class: 'questions' });
    const comment = el('textarea', { name: 'comment', rows: '2', maxlength: '4000', placeholder: 'Comment', 'aria-label': 'Comment' });
    const show = () => {
      const form = forms.find((f) => f.name === choice.value);
      questions.replaceChildren(...form.questions.map((question) => {
        const options = question.kind === 'yes_no'
          ? ['yes', 'no']
          : Array.from({ length: question.max + 1 }, (_, index) => String(index));
        if (question.optional) options.push('n/a');
        return el('fieldset', { class: 'question' }, el('legend', {}, `${question.text} (${question.points} pts)`),
          options.map((value) => el('label', {}, el('input', { type: 'radio', name: `q-${question.id}`, value, required: true }), ` ${value}`)));
      }));
    };
    choice.addEventListener('change', show);
    show();
    const form = el('form', { class: 'evaluation-form', id: 'evaluation-form' },
      forms.length > 1 ? choice : null, questions, comment,
      el('button', { type: 'submit', class: 'primary' }, 'Submit evaluation'), message);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const definition = forms.find((f) => f.name === choice.value);
      const answers = {};
      for (const question of definition.questions) {
        const picked = form.querySelector(`input[name="q-${question.id}"]:checked`)?.value;
        if (picked !== undefined) answers[question.id] = question.kind === 'scale' && picked !== 'n/a' ? Number(picked) : picked;
      }
      this.save(message, () => api('POST', callPath(this.player.call, '/evaluations'),
        { form: definition.name, answers, comment: comment.value }));
    });
    return form;
  }

  // MARK: - Categories and fields

  categories() {
    const message = el('p', { class: 'error', role: 'alert' });
    if (!this.definitions.categories.length) return el('p', { class: 'empty' }, 'No categories defined.');
    const chosen = new Set(this.review.categories);
    return el('div', { class: 'chips', id: 'categories' }, this.definitions.categories.map((category) =>
      el('label', { class: `chip${chosen.has(category.name) ? ' on' : ''}`, title: category.description },
        el('input', { type: 'checkbox', value: category.name, checked: chosen.has(category.name), disabled: !this.review.can_edit,
          onchange: (event) => {
            if (event.target.checked) chosen.add(category.name); else chosen.delete(category.name);
            this.save(message, () => api('PUT', callPath(this.player.call, '/categories'), { categories: [...chosen] }));
          } }), ` ${category.name}`)), message);
  }

  fields() {
    if (!this.definitions.fields.length) return null;
    const message = el('p', { class: 'error', role: 'alert' });
    const inputs = this.definitions.fields.map((field) => {
      const value = this.review.fields[field.name] ?? '';
      const input = field.kind === 'choice'
        ? el('select', { name: field.name, disabled: !this.review.can_edit }, el('option', { value: '' }, '–'),
          field.choices.map((c) => el('option', { value: c, selected: c === value }, c)))
        : el('input', { name: field.name, value, type: field.kind === 'number' ? 'number' : 'text', step: 'any',
          disabled: !this.review.can_edit });
      return [field, input];
    });
    const form = el('form', { class: 'fields', id: 'fields' },
      inputs.map(([field, input]) => el('label', {}, field.label, input)),
      this.review.can_edit ? el('button', { type: 'submit' }, 'Save fields') : null, message);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const values = {};
      for (const [field, input] of inputs) {
        const before = this.review.fields[field.name] ?? '';
        if (input.value !== before) values[field.name] = input.value === '' ? null : input.value;
      }
      if (Object.keys(values).length) this.save(message, () => api('PUT', callPath(this.player.call, '/fields'), { values }));
    });
    return form;
  }
}
