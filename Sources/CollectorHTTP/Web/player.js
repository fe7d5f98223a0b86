// The player: one timeline for the whole call. The voice recordings play in <audio> elements and are
// the clock; the screen of the agent on the leg at that moment plays in a <video> that follows it.
// Every tick (an animation frame) the video is put where the clock says: nudged by its rate when a
// little off, sought when far off, so screen and voice stay within 40 ms of each other. Where there
// is no screen (a PCI pause, a part of a leg nobody recorded) a placeholder says so; a frame is
// never left standing as if it were live.
import { api, callPath } from './api.js';
import { el, clock, localTime } from './dom.js';

const SPEEDS = [0.5, 0.75, 1, 1.25, 1.5, 2];
const PLACEHOLDERS = {
  pause: (band) => `Recording paused${band.detail ? ` (${band.detail})` : ''}: nothing was recorded here`,
  no_screen: () => 'No screen was recorded for this part of the call',
  none: () => 'No screen at this moment',
  after: () => 'The call has ended',
};

export class Player {
  static async open(call) {
    const timeline = await api('GET', callPath(call, '/timeline'));
    return new Player(call, timeline);
  }

  constructor(call, timeline) {
    this.call = { integration: timeline.integration, interaction_id: timeline.interaction_id };
    this.timeline = timeline;
    this.duration = Math.max(timeline.duration_ms, ...timeline.voice.map((v) => v.offset_ms + v.duration_ms),
      ...timeline.screen.map((s) => s.offset_ms + s.duration_ms)) / 1000;
    this.t = 0;
    this.playing = false;
    this.rate = 1;
    this.anchor = { t: 0, wall: performance.now() };
    this.voices = timeline.voice.map((voice) => {
      const audio = new Audio(callPath(this.call, `/voice/${encodeURIComponent(voice.id)}/audio`));
      audio.preload = 'auto';
      audio.preservesPitch = true;
      return { ...voice, offset: voice.offset_ms / 1000, length: voice.duration_ms / 1000, audio };
    });
    this.screens = [...timeline.screen].sort((a, b) => a.offset_ms - b.offset_ms).map((screen) => ({
      ...screen, offset: screen.offset_ms / 1000, length: screen.duration_ms / 1000,
      url: callPath(this.call, `/screen/${encodeURIComponent(screen.agent_id)}/${screen.sequence}`),
    }));
    this.monitors = [...new Set(this.screens.map((s) => s.monitor))];
    this.monitor = this.monitors[0] ?? null;
    // One lane per monitor shown: the chosen monitor, or all of them side by side ("all monitors").
    this.lanes = [this.makeLane(this.monitor)];
    this.build();
    this.keys = (event) => this.onKey(event);
    document.addEventListener('keydown', this.keys);
    this.frame = requestAnimationFrame(() => this.tick());
    this.seek(0);
  }

  /// A screen lane: two <video> elements taking turns (one plays, one preloads the next segment)
  /// and the placeholder shown where that monitor has no screen.
  makeLane(monitor) {
    const lane = { monitor, videos: [this.makeVideo(), this.makeVideo()], front: 0, current: null,
      placeholder: el('div', { class: 'placeholder', role: 'status' }) };
    lane.element = el('div', { class: 'lane' }, lane.videos, lane.placeholder,
      this.monitors.length > 1 ? el('span', { class: 'lane-name' }, monitor) : null);
    return lane;
  }

  // The first lane answers for the player (the tests, the clock's gate, the state).
  get videos() { return this.lanes[0].videos; }
  get front() { return this.lanes[0].front; }
  get current() { return this.lanes[0].current; }
  get placeholder() { return this.lanes[0].placeholder; }

  /// Shows one monitor, or (`'*'`) every monitor at once, each following the same clock.
  showMonitor(choice) {
    for (const lane of this.lanes) for (const video of lane.videos) { video.pause(); video.removeAttribute('src'); video.load(); }
    this.monitor = choice === '*' ? this.monitors[0] : choice;
    this.lanes = choice === '*' ? this.monitors.map((m) => this.makeLane(m)) : [this.makeLane(choice)];
    this.stage.replaceChildren(...this.lanes.map((lane) => lane.element));
    this.stage.classList.toggle('all', choice === '*');
    this.placeScreen(true);
  }

  makeVideo() {
    const video = el('video', { muted: true, playsinline: true, preload: 'auto', class: 'screen' });
    video.muted = true;
    video.hidden = true;
    return video;
  }

  destroy() {
    cancelAnimationFrame(this.frame);
    document.removeEventListener('keydown', this.keys);
    for (const voice of this.voices) { voice.audio.pause(); voice.audio.removeAttribute('src'); voice.audio.load(); }
    for (const video of [...this.lanes.flatMap((lane) => lane.videos), this.filmstripProbe]) {
      video.pause(); video.removeAttribute('src'); video.load();
    }
  }

  // MARK: - The clock

  /// The voice that leads: the first one playing at this moment.
  master() {
    if (!this.playing) return null;
    return this.voices.find((v) => !v.audio.paused && !v.audio.seeking && v.audio.readyState >= 3
      && this.t >= v.offset && this.t < v.offset + v.length) ?? null;
  }

  /// A voice should be playing here but has not started yet (just sought, still loading): the clock
  /// waits for it, so the screen never runs ahead of a voice that begins late.
  voiceDue() {
    return this.playing && !this.master() && this.voices.some((v) => !v.audio.error
      && this.t >= v.offset && this.t < v.offset + v.length);
  }

  now() {
    if (!this.playing) return this.t;
    const lead = this.master();
    if (lead) return lead.offset + lead.audio.currentTime;
    if (this.voiceDue()) return this.t;
    return this.anchor.t + ((performance.now() - this.anchor.wall) / 1000) * this.rate;
  }

  play() {
    if (this.t >= this.duration) this.seek(0);
    this.playing = true;
    this.gate();
    this.anchor = { t: this.t, wall: performance.now() };
    this.playButton.textContent = 'Pause';
    this.playButton.setAttribute('aria-pressed', 'true');
  }

  pause() {
    this.t = this.now();
    this.playing = false;
    for (const voice of this.voices) voice.audio.pause();
    for (const lane of this.lanes) for (const video of lane.videos) video.pause();
    this.playButton.textContent = 'Play';
    this.playButton.setAttribute('aria-pressed', 'false');
  }

  toggle() { if (this.playing) this.pause(); else this.play(); }

  seek(seconds) {
    this.t = Math.min(Math.max(0, seconds), this.duration);
    this.anchor = { t: this.t, wall: performance.now() };
    for (const voice of this.voices) {
      const inside = this.t >= voice.offset && this.t < voice.offset + voice.length;
      if (inside) voice.audio.currentTime = this.t - voice.offset;
      else voice.audio.pause();
    }
    this.placeScreen(true);
    this.gate();
    // Playing, the voices there stop until the screen can play too (tick starts them again).
    if (this.playing && this.gateSince !== null) {
      for (const voice of this.voices) if (!voice.audio.paused) voice.audio.pause();
    }
    this.draw();
  }

  /// After a seek or on play, the voices wait (and the clock with them) until the screen there can
  /// play too, so both start together instead of the screen catching up from behind; never more than
  /// 3 s (a screen that does not load does not hold the voice).
  gate() { this.gateSince = this.lanes.some((lane) => lane.current) ? performance.now() : null; }

  /// Whether the voices still wait: some lane shows a segment whose video cannot play yet.
  gated() {
    if (this.gateSince === null || this.gateSince === undefined) return false;
    const waiting = this.lanes.some((lane) => {
      const video = lane.videos[lane.front];
      return lane.current && (video.dataset.url !== lane.current.url || video.readyState < 3 || video.seeking);
    });
    if (!waiting || performance.now() - this.gateSince > 3000) { this.gateSince = null; return false; }
    return true;
  }

  setRate(rate) {
    this.t = this.now();
    this.anchor = { t: this.t, wall: performance.now() };
    this.rate = rate;
    for (const voice of this.voices) voice.audio.playbackRate = rate;
    this.speed.value = String(rate);
  }

  // MARK: - Each frame

  tick() {
    this.frame = requestAnimationFrame(() => this.tick());
    if (this.playing) {
      this.t = this.now();
      if (this.t >= this.duration) { this.t = this.duration; this.pause(); }
      this.skipIfIdle();
      this.anchor = { t: this.t, wall: performance.now() };
      const lead = this.master();
      for (const voice of this.voices) {
        const inside = this.t >= voice.offset && this.t < voice.offset + voice.length;
        if (!inside) { if (!voice.audio.paused) voice.audio.pause(); continue; }
        voice.audio.playbackRate = this.rate;
        if (voice.audio.paused) {
          if (this.gated()) continue;
          voice.audio.currentTime = this.t - voice.offset;
          voice.audio.play().catch(() => {});
        } else if (voice !== lead && Math.abs(voice.audio.currentTime - (this.t - voice.offset)) > 0.04) {
          voice.audio.currentTime = this.t - voice.offset;
        }
      }
    }
    this.placeScreen(false);
    this.draw();
  }

  /// The screen segment for this moment: of the workstation on the leg that is live (the latest
  /// begun), on the chosen monitor; or nil.
  segmentAt(t, monitor = this.monitor) {
    const ms = t * 1000;
    const legs = this.timeline.legs.filter((leg) => leg.workstation && leg.from_ms <= ms && (leg.to_ms ?? Infinity) > ms);
    const workstations = legs.sort((a, b) => b.from_ms - a.from_ms).map((leg) => leg.workstation);
    const covering = this.screens.filter((s) => t >= s.offset && t < s.offset + s.length);
    const onMonitor = (s) => monitor === null || s.monitor === monitor || !this.monitors.includes(monitor);
    for (const workstation of workstations) {
      const found = covering.find((s) => s.agent_id === workstation && onMonitor(s))
        ?? covering.find((s) => s.agent_id === workstation);
      if (found) return found;
    }
    return covering.find(onMonitor) ?? covering[0] ?? null;
  }

  placeScreen(sought) {
    for (const lane of this.lanes) this.placeLane(lane, sought);
  }

  placeLane(lane, sought) {
    // With every monitor shown, a lane shows only its own monitor's screen, or its placeholder.
    const found = this.segmentAt(this.t, lane.monitor);
    const segment = found && (this.lanes.length === 1 || found.monitor === lane.monitor) ? found : null;
    const video = lane.videos[lane.front];
    if (!segment) {
      for (const v of lane.videos) { v.pause(); v.hidden = true; }
      lane.current = null;
      this.showPlaceholder(lane, true);
      return;
    }
    let swapped = false;
    if (video.dataset.url !== segment.url) {
      // The other element may hold it already (preloaded, at its start): swap, so the switch shows
      // no blank, and let it run from there (a seek would stall it), nudged like any small gap.
      const other = lane.videos[1 - lane.front];
      if (other.dataset.url === segment.url) { lane.front = 1 - lane.front; swapped = true; } else {
        video.dataset.url = segment.url;
        video.src = segment.url;
        sought = true;
      }
    }
    const shown = lane.videos[lane.front];
    lane.videos[1 - lane.front].hidden = true;
    lane.videos[1 - lane.front].pause();
    lane.current = segment;
    const wanted = this.t - segment.offset;
    // Still loading (a new src on the element that showed the last segment): hidden, so neither a
    // person nor state() takes the old frame for this moment's.
    if (shown.readyState < 1) { shown.hidden = true; this.showPlaceholder(lane, false, 'Loading the screen…'); return; }
    shown.hidden = false;
    this.showPlaceholder(lane, false);
    const drift = shown.currentTime - wanted;
    // Held while the voice it follows has not started: it starts with it.
    const running = this.playing && !this.voiceDue();
    if ((sought && !swapped) || !running || Math.abs(drift) > 0.15) {
      if (Math.abs(drift) > 0.01 && !shown.seeking) shown.currentTime = wanted;
      shown.playbackRate = this.rate;
    } else {
      // A little behind or ahead: catch up by speed, not by a jump the eye would see. The gain
      // closes 40 ms in about a quarter of a second (each frame takes an eighth off the gap), the
      // lag a video has when it starts a moment after the voice it follows.
      shown.playbackRate = this.rate * Math.min(1.6, Math.max(0.6, 1 - drift * 8));
    }
    if (running && shown.paused && !shown.seeking) shown.play().catch(() => {});
    if (!running && !shown.paused) shown.pause();
    this.preloadAfter(lane, segment);
  }

  preloadAfter(lane, segment) {
    const next = this.screens.find((s) => s.agent_id === segment.agent_id && s.monitor === segment.monitor && s.offset > segment.offset);
    const spare = lane.videos[1 - lane.front];
    if (next && spare.dataset.url !== next.url && segment.offset + segment.length - this.t < 5) {
      spare.dataset.url = next.url;
      spare.src = next.url;
      spare.currentTime = 0;
    }
  }

  showPlaceholder(lane, gap, text) {
    const placeholder = lane.placeholder;
    if (!gap && !text) { placeholder.hidden = true; return; }
    const ms = this.t * 1000;
    const band = this.timeline.bands.find((b) => (b.kind === 'pause' || b.kind === 'no_screen')
      && b.from_ms <= ms && (b.to_ms ?? Infinity) > ms);
    placeholder.textContent = text
      ?? (band ? PLACEHOLDERS[band.kind](band) : this.t >= this.timeline.duration_ms / 1000 ? PLACEHOLDERS.after() : PLACEHOLDERS.none());
    placeholder.dataset.kind = band?.kind ?? 'none';
    placeholder.hidden = false;
  }

  /// For tests and diagnostics: where each clock is, in seconds on the call's timeline, and what a
  /// person sees (laid out on the page, not merely unhidden).
  state() {
    const video = this.videos[this.front];
    const seen = (node) => node.offsetParent !== null;
    const lead = this.voices.find((v) => this.t >= v.offset && this.t < v.offset + v.length);
    return {
      t: this.now(), playing: this.playing, rate: this.rate,
      audio: lead ? lead.offset + lead.audio.currentTime : null,
      video: this.current && seen(video) ? this.current.offset + video.currentTime : null,
      segment: this.current ? `${this.current.agent_id}#${this.current.sequence}` : null,
      placeholder: seen(this.placeholder) ? this.placeholder.textContent : null,
      skipped: this.skipped,
    };
  }

  // MARK: - The page

  build() {
    const t = this.timeline;
    this.stage = el('div', { class: 'stage' }, this.lanes.map((lane) => lane.element));
    this.playButton = el('button', { type: 'button', class: 'primary', 'aria-pressed': 'false', onclick: () => this.toggle() }, 'Play');
    this.time = el('span', { class: 'time mono' });
    this.speed = el('select', { 'aria-label': 'Speed', onchange: () => this.setRate(Number(this.speed.value)) },
      SPEEDS.map((s) => el('option', { value: String(s), selected: s === 1 }, `${s}×`)));
    const monitorChoice = this.monitors.length > 1
      ? el('select', { 'aria-label': 'Monitor', id: 'monitor', onchange: (e) => this.showMonitor(e.target.value) },
        this.monitors.map((m) => el('option', { value: m }, m)), el('option', { value: '*' }, 'all monitors'))
      : null;
    const controls = el('div', { class: 'controls' },
      el('button', { type: 'button', title: 'Back 10 s (←)', onclick: () => this.seek(this.now() - 10) }, '−10 s'),
      this.playButton,
      el('button', { type: 'button', title: 'Forward 10 s (→)', onclick: () => this.seek(this.now() + 10) }, '+10 s'),
      this.time, el('label', {}, 'Speed ', this.speed), monitorChoice, this.makeSkipIdle(),
      el('a', { class: 'button export', id: 'export', href: callPath(this.call, '/export'), download: '',
        title: 'The whole call as one WebM file, screen and voice in sync (audited)' }, 'Export WebM'));
    this.track = el('div', { class: 'track', role: 'slider', tabindex: '0', 'aria-label': 'Position in the call',
      onclick: (event) => this.seekTo(event) });
    this.playhead = el('div', { class: 'playhead' });
    const width = (from, to) => `${Math.max(0.3, ((to - from) / 1000 / this.duration) * 100)}%`;
    const left = (from) => `${(from / 1000 / this.duration) * 100}%`;
    for (const band of t.bands) {
      const to = band.to_ms ?? t.duration_ms;
      this.track.append(el('button', {
        type: 'button', class: `band band-${band.kind}`, style: { left: left(band.from_ms), width: width(band.from_ms, to) },
        title: `${band.kind.replace('_', ' ')} ${clock(band.from_ms)}–${clock(to)}${band.detail ? ` · ${band.detail}` : ''}`,
        onclick: (event) => { event.stopPropagation(); this.seek(band.from_ms / 1000); },
      }));
    }
    this.track.append(this.playhead, this.makeFilmstrip());
    const legs = el('div', { class: 'legs' }, t.legs.map((leg) => el('div', { class: 'leg-row' },
      el('span', { class: 'leg-name' }, leg.workstation ?? leg.agent ?? leg.leg_id),
      el('div', { class: 'leg-lane', onclick: (event) => this.seekTo(event) },
        el('div', { class: 'leg', style: { left: left(leg.from_ms), width: width(leg.from_ms, leg.to_ms ?? t.duration_ms) },
          title: `${leg.kind} ${leg.leg_id}: ${clock(leg.from_ms)}–${clock(leg.to_ms ?? t.duration_ms)}` })))));
    const sync = t.sync.unmeasured?.length
      ? `the clock of ${t.sync.unmeasured.join(', ')} was never measured: times as recorded`
      : `screen and voice line up within ${t.sync.max_uncertainty_ms ?? 0} ms`;
    this.element = el('section', { class: 'player', id: 'player' },
      el('header', { class: 'call-head' },
        el('h1', {}, `Call ${t.interaction_id}`),
        el('p', { class: 'meta' }, `${localTime(t.started_at)} · ${clock(t.duration_ms)} · ${t.legs.length} leg(s) · ${t.voice.length} voice, ${t.screen.length} screen segment(s) · ${sync}`)),
      this.stage, controls, el('div', { class: 'leg-row' }, el('span', { class: 'leg-name' }, 'Call'), this.track), legs,
      el('p', { class: 'hint' }, 'Space: play or pause · ← →: 10 s · < >: speed · I: skip idle · N: write a note here · hover the bar to see the screen there, click it, a band or a note to go there'));
  }

  /// "Skip idle": the collector finds where every voice is silent and the screen does not change
  /// (3 s or more); while on, playing into such a stretch jumps to its end, and the bar shows them.
  makeSkipIdle() {
    const box = el('input', { type: 'checkbox', id: 'skip-idle' });
    this.skipped = [];
    box.addEventListener('change', async () => {
      this.skipIdle = box.checked;
      if (box.checked && !this.idle) {
        // One request, however often the box is ticked while it is answered.
        const first = !this.idlePending;
        this.idlePending ??= api('GET', callPath(this.call, '/idle'));
        try {
          const stretches = (await this.idlePending).stretches;
          if (!first || this.idle) { this.track.classList.toggle('showing-idle', box.checked); return; }
          this.idle = stretches;
        } catch (error) {
          this.idlePending = null;
          this.skipIdle = false;
          box.checked = false;
          box.parentNode.title = error.message;
          return;
        }
        const left = (ms) => `${(ms / 1000 / this.duration) * 100}%`;
        for (const stretch of this.idle) {
          this.track.append(el('div', { class: 'band band-idle', style: { left: left(stretch.from_ms),
            width: left(stretch.to_ms - stretch.from_ms) }, title: `idle ${clock(stretch.from_ms)}–${clock(stretch.to_ms)}` }));
        }
      }
      this.track.classList.toggle('showing-idle', box.checked);
    });
    this.skipIdleBox = box;
    return el('label', { title: 'Skip stretches of silence with no screen change (I)' }, box, ' Skip idle');
  }

  /// While playing with "skip idle" on: past the start of an idle stretch, go to its end.
  skipIfIdle() {
    if (!this.skipIdle || !this.idle || !this.playing) return;
    const ms = this.t * 1000;
    const stretch = this.idle.find((s) => ms >= s.from_ms && ms < s.to_ms - 250);
    if (!stretch) return;
    this.skipped.push({ from: this.t, to: stretch.to_ms / 1000 });
    this.seek(stretch.to_ms / 1000);
  }

  /// The screen at the moment under the pointer, shown above the bar while hovering it: a third
  /// <video>, never shown itself, sought there and drawn into a small canvas. One seek at a time;
  /// the latest position asked wins.
  makeFilmstrip() {
    const canvas = el('canvas', { width: '192', height: '108' });
    const label = el('span', { class: 'mono' });
    const tip = el('div', { class: 'filmstrip', id: 'filmstrip', 'aria-hidden': 'true' }, canvas, label);
    tip.hidden = true;
    const probe = el('video', { muted: true, preload: 'auto' });
    probe.muted = true;
    let wanted = null;
    let busy = false;
    const draw = () => {
      const context = canvas.getContext('2d');
      context.fillStyle = '#1b2330';
      context.fillRect(0, 0, canvas.width, canvas.height);
      if (probe.videoWidth) {
        const scale = Math.min(canvas.width / probe.videoWidth, canvas.height / probe.videoHeight);
        const w = probe.videoWidth * scale;
        const h = probe.videoHeight * scale;
        context.drawImage(probe, (canvas.width - w) / 2, (canvas.height - h) / 2, w, h);
      }
    };
    const next = () => {
      if (busy || wanted === null) return;
      const t = wanted;
      wanted = null;
      const segment = this.segmentAt(t);
      label.textContent = clock(t * 1000);
      if (!segment) {
        const context = canvas.getContext('2d');
        context.fillStyle = '#1b2330';
        context.fillRect(0, 0, canvas.width, canvas.height);
        context.fillStyle = '#e8ecf2';
        context.font = '13px sans-serif';
        context.fillText('no screen here', 50, 58);
        tip.dataset.segment = '';
        return next();
      }
      busy = true;
      const seekTo = () => { probe.currentTime = Math.max(0, t - segment.offset); };
      probe.onseeked = () => { draw(); tip.dataset.segment = `${segment.agent_id}#${segment.sequence}`; busy = false; next(); };
      // A segment that failed to load is tried afresh next time, and the thumbnail goes on.
      probe.onerror = () => { delete probe.dataset.url; busy = false; next(); };
      if (probe.dataset.url !== segment.url) {
        probe.dataset.url = segment.url;
        probe.src = segment.url;
        probe.onloadedmetadata = seekTo;
      } else seekTo();
    };
    // The tip follows the pointer at once; the screen under it is asked for when the pointer rests
    // 80 ms (each new position may open another segment on the collector).
    let rest = null;
    this.track.addEventListener('mousemove', (event) => {
      const box = this.track.getBoundingClientRect();
      const fraction = Math.min(1, Math.max(0, (event.clientX - box.left) / box.width));
      tip.style.left = `${fraction * 100}%`;
      tip.hidden = false;
      label.textContent = clock(fraction * this.duration * 1000);
      clearTimeout(rest);
      rest = setTimeout(() => { wanted = fraction * this.duration; next(); }, 80);
    });
    this.track.addEventListener('mouseleave', () => { clearTimeout(rest); tip.hidden = true; wanted = null; });
    this.filmstripProbe = probe;
    return tip;
  }

  /// A tick on the bar for each timed note (the review panel calls this whenever its notes change).
  markNotes(notes) {
    for (const mark of this.track.querySelectorAll('.note-mark')) mark.remove();
    for (const note of notes) {
      if (note.at_ms === null) continue;
      this.track.append(el('button', {
        type: 'button', class: 'note-mark', style: { left: `${(note.at_ms / 1000 / this.duration) * 100}%` },
        title: `${clock(note.at_ms)} · ${note.author}: ${note.text.slice(0, 80)}`,
        onclick: (event) => { event.stopPropagation(); this.seek(note.at_ms / 1000); },
      }));
    }
  }

  seekTo(event) {
    const box = event.currentTarget.getBoundingClientRect();
    this.seek(((event.clientX - box.left) / box.width) * this.duration);
  }

  draw() {
    this.time.textContent = `${clock(this.t * 1000)} / ${clock(this.duration * 1000)}`;
    this.playhead.style.left = `${(this.t / this.duration) * 100}%`;
    this.onDraw?.(this.t);
  }

  onKey(event) {
    if (event.target instanceof HTMLInputElement || event.target instanceof HTMLSelectElement
      || event.target instanceof HTMLTextAreaElement) return;
    const index = SPEEDS.indexOf(this.rate);
    switch (event.key) {
      case ' ': case 'k': event.preventDefault(); this.toggle(); break;
      case 'ArrowLeft': case 'j': event.preventDefault(); this.seek(this.now() - 10); break;
      case 'ArrowRight': case 'l': event.preventDefault(); this.seek(this.now() + 10); break;
      case '<': this.setRate(SPEEDS[Math.max(0, index - 1)]); break;
      case '>': this.setRate(SPEEDS[Math.min(SPEEDS.length - 1, index + 1)]); break;
      case 'Home': this.seek(0); break;
      case 'n': if (this.onNoteKey) { event.preventDefault(); this.onNoteKey(); } break;
      case 'i': this.skipIdleBox.click(); break;
      default: break;
    }
  }
}
