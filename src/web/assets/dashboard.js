// The sightflow dashboard: a card per stream (live MJPEG video, counts over time, line crossings over
// time, recent events with thumbnails, fps, per-stage latency) and the controls that start and stop
// streams. Everything comes from the JSON API of
// docs/WEB.md, polled; data from the server enters the page only as text (textContent, attributes).

const STREAMS_POLL_MS = 1000;
const COUNTS_POLL_MS = 2000;
const CHART_WINDOW_S = 300;
const CHART_GAP_S = 3; // buckets are 1 s: farther apart than this, the line breaks
const VIDEO_RETRY_MS = 2000;
const TOKEN_KEY = 'sightflow.token';
const MAX_MESSAGES = 5;
const MAX_EVENTS = 12; // shown per card, newest first
// `remote`: a stream that other machines capture and infer (serve --redis).
const LIVE_STATES = new Set(['starting', 'running', 'remote']);
// Per-stage latency, in pipeline order: `read` is the stream's, the others each algorithm's.
const STAGES = ['read', 'resize', 'model', 'post', 'sink'];

const cards = new Map(); // stream name -> StreamCard

// --- API ------------------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

// Calls the API; answers the parsed JSON, or throws an ApiError worded from the server's
// {"code","type","message"} (or from the status when the answer is not one).
async function api(method, path, body) {
  const headers = {};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const token = localStorage.getItem(TOKEN_KEY);
  if (method !== 'GET' && token) headers.Authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(path, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store',
    });
  } catch (error) {
    throw new ApiError(`${method} ${path}: the server did not answer (${error.message})`, 0);
  }
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: worded from the status below
  }
  if (!response.ok) {
    if (data && typeof data.message === 'string') {
      throw new ApiError(`${data.code ?? response.status} ${data.type ?? ''}: ${data.message}`, response.status);
    }
    throw new ApiError(`${method} ${path}: HTTP ${response.status} ${text.slice(0, 200)}`, response.status);
  }
  return data;
}

// --- small DOM helpers -----------------------------------------------------------------------------

function element(tag, attributes = {}, text) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

function formatNumber(value, digits = 1) {
  return typeof value === 'number' && Number.isFinite(value) ? value.toFixed(digits) : '–';
}

// Errors stay until dismissed (the newest MAX_MESSAGES); notices fade after a few seconds.
function showMessage(text, kind = 'error') {
  const box = document.getElementById('messages');
  const message = element('div', { class: 'message', 'data-kind': kind, role: kind === 'error' ? 'alert' : 'status' });
  message.append(element('span', {}, text));
  const dismiss = element('button', { type: 'button', class: 'dismiss', 'aria-label': 'dismiss' }, '×');
  dismiss.addEventListener('click', () => message.remove());
  message.append(dismiss);
  box.append(message);
  while (box.children.length > MAX_MESSAGES) box.firstElementChild.remove();
  if (kind !== 'error') setTimeout(() => message.remove(), 5000);
}

function setConnection(connected, detail) {
  const indicator = document.getElementById('connection');
  indicator.dataset.connected = String(connected);
  indicator.textContent = connected ? 'live' : `no answer: ${detail}`;
}

// --- the counts chart ----------------------------------------------------------------------------

// The smallest 1, 2 or 5 times a power of ten that is >= value (a y-axis top with round labels).
function niceCeiling(value) {
  if (value <= 1) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

// The canvas sized to its box at the screen's pixel ratio and cleared; null while it is not laid out.
function clearedCanvas(canvas) {
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth;
  const height = canvas.clientHeight;
  if (width === 0 || height === 0) return null;
  canvas.width = Math.round(width * ratio);
  canvas.height = Math.round(height * ratio);
  const context = canvas.getContext('2d');
  context.setTransform(ratio, 0, 0, ratio, 0, 0);
  context.clearRect(0, 0, width, height);
  return { context, width, height };
}

// A line of the average count per bucket over the last CHART_WINDOW_S seconds, drawn on a <canvas>;
// the canvas's data-points says how many points it drew (read by the browser test).
class CountChart {
  constructor(canvas) {
    this.canvas = canvas;
    this.points = [];
    this.canvas.dataset.points = '0';
    new ResizeObserver(() => this.draw()).observe(canvas);
  }

  setPoints(points) {
    this.points = points;
    this.draw();
  }

  draw() {
    const canvas = this.canvas;
    const { context, width, height } = clearedCanvas(canvas) || {};
    if (!context) return;
    const style = getComputedStyle(canvas);
    const axisColor = style.getPropertyValue('--chart-axis').trim() || '#888';
    const lineColor = style.getPropertyValue('--chart-line').trim() || '#2a7de1';
    const plot = { left: 34, right: width - 8, top: 8, bottom: height - 20 };

    // The window ends now, or at the newest bucket if the server's clock is ahead of this one.
    const newest = this.points.length ? this.points[this.points.length - 1].t : 0;
    const end = Math.max(Date.now() / 1000, newest);
    const start = end - CHART_WINDOW_S;
    const visible = this.points.filter((p) => p.t >= start && typeof p.avg === 'number');
    const top = niceCeiling(Math.max(0, ...visible.map((p) => p.avg)));
    const x = (t) => plot.left + ((t - start) / CHART_WINDOW_S) * (plot.right - plot.left);
    const y = (v) => plot.bottom - (v / top) * (plot.bottom - plot.top);

    drawAxes(context, plot, x, y, top, end, axisColor);

    if (visible.length === 0) {
      context.textAlign = 'center';
      context.textBaseline = 'middle';
      context.fillText('no counts yet', (plot.left + plot.right) / 2, (plot.top + plot.bottom) / 2);
    } else {
      context.strokeStyle = lineColor;
      context.fillStyle = lineColor;
      context.lineWidth = 2;
      context.lineJoin = 'round';
      context.beginPath();
      // A gap in the buckets (the stream paused or was restarted) stays a gap.
      visible.forEach((p, i) => {
        const joined = i > 0 && p.t - visible[i - 1].t <= CHART_GAP_S;
        if (joined) context.lineTo(x(p.t), y(p.avg));
        else context.moveTo(x(p.t), y(p.avg));
      });
      context.stroke();
      const last = visible[visible.length - 1];
      context.beginPath();
      context.arc(x(last.t), y(last.avg), 3, 0, 2 * Math.PI);
      context.fill();
    }
    canvas.dataset.points = String(visible.length);
  }
}

// Line crossings over the last CHART_WINDOW_S seconds: per direction, the running total of the window's
// crossings (all lines together) as a step line; data-points says how many buckets it drew.
class CrossingsChart {
  constructor(canvas) {
    this.canvas = canvas;
    this.lines = {};
    this.canvas.dataset.points = '0';
    new ResizeObserver(() => this.draw()).observe(canvas);
  }

  setLines(lines) {
    this.lines = lines && typeof lines === 'object' ? lines : {};
    this.draw();
  }

  draw() {
    const canvas = this.canvas;
    const { context, width, height } = clearedCanvas(canvas) || {};
    if (!context) return;
    const style = getComputedStyle(canvas);
    const axisColor = style.getPropertyValue('--chart-axis').trim() || '#888';
    const colors = {
      in: style.getPropertyValue('--chart-in').trim() || '#2a7de1',
      out: style.getPropertyValue('--chart-out').trim() || '#f28e2b',
    };
    const plot = { left: 34, right: width - 8, top: 8, bottom: height - 20 };

    // Buckets of every line merged by time.
    const buckets = new Map();
    for (const points of Object.values(this.lines)) {
      if (!Array.isArray(points)) continue;
      for (const p of points) {
        if (typeof p.t !== 'number') continue;
        const b = buckets.get(p.t) ?? { t: p.t, in: 0, out: 0 };
        b.in += Number(p.in) || 0;
        b.out += Number(p.out) || 0;
        buckets.set(p.t, b);
      }
    }
    const sorted = [...buckets.values()].sort((a, b) => a.t - b.t);
    const newest = sorted.length ? sorted[sorted.length - 1].t : 0;
    const end = Math.max(Date.now() / 1000, newest);
    const start = end - CHART_WINDOW_S;
    const visible = sorted.filter((b) => b.t >= start);
    let totalIn = 0;
    let totalOut = 0;
    const running = visible.map((b) => ({ t: b.t, in: (totalIn += b.in), out: (totalOut += b.out) }));
    const top = niceCeiling(Math.max(1, totalIn, totalOut));
    const x = (t) => plot.left + ((t - start) / CHART_WINDOW_S) * (plot.right - plot.left);
    const y = (v) => plot.bottom - (v / top) * (plot.bottom - plot.top);
    drawAxes(context, plot, x, y, top, end, axisColor);

    if (visible.length === 0) {
      context.textAlign = 'center';
      context.textBaseline = 'middle';
      context.fillText('no crossings counted yet', (plot.left + plot.right) / 2, (plot.top + plot.bottom) / 2);
    } else {
      context.lineWidth = 2;
      for (const direction of ['in', 'out']) {
        context.strokeStyle = colors[direction];
        context.beginPath();
        running.forEach((p, i) => {
          if (i === 0) context.moveTo(x(p.t), y(p[direction]));
          else {
            context.lineTo(x(p.t), y(running[i - 1][direction]));
            context.lineTo(x(p.t), y(p[direction]));
          }
        });
        context.stroke();
      }
      context.textAlign = 'left';
      context.textBaseline = 'top';
      context.fillStyle = colors.in;
      context.fillText(`in ${totalIn}`, plot.left + 6, plot.top);
      context.fillStyle = colors.out;
      context.fillText(`out ${totalOut}`, plot.left + 56, plot.top);
    }
    canvas.dataset.points = String(visible.length);
    canvas.dataset.in = String(totalIn);
    canvas.dataset.out = String(totalOut);
  }
}

// Grid lines at 0, top/2 and top, their values, and minute marks along the time axis.
function drawAxes(context, plot, x, y, top, end, axisColor) {
  context.font = '11px system-ui, sans-serif';
  context.fillStyle = axisColor;
  context.strokeStyle = axisColor;
  context.lineWidth = 1;
  context.globalAlpha = 0.35;
  context.beginPath();
  for (const value of [0, top / 2, top]) {
    context.moveTo(plot.left, Math.round(y(value)) + 0.5);
    context.lineTo(plot.right, Math.round(y(value)) + 0.5);
  }
  context.stroke();
  context.globalAlpha = 1;
  context.textAlign = 'right';
  context.textBaseline = 'middle';
  for (const value of [0, top / 2, top]) {
    context.fillText(Number.isInteger(value) ? String(value) : value.toFixed(1), plot.left - 4, y(value));
  }
  context.textBaseline = 'top';
  for (let secondsAgo = CHART_WINDOW_S; secondsAgo >= 0; secondsAgo -= 60) {
    context.textAlign = secondsAgo === CHART_WINDOW_S ? 'left' : secondsAgo === 0 ? 'right' : 'center';
    const label = secondsAgo === 0 ? 'now' : `-${secondsAgo / 60}m`;
    context.fillText(label, x(end - secondsAgo), plot.bottom + 5);
  }
}

// --- the event list ------------------------------------------------------------------------------

function eventKey(e) {
  return [e.algo, e.frame, e.type, e.name, e.track_id ?? ''].join('|');
}

// "door in", "lawn enter", "lawn exit after 4.2 s", then the track: "#3 person".
function eventText(e) {
  let what = `${e.name ?? ''} ${e.type === 'line' ? e.direction ?? '' : e.type}`.trim();
  if (typeof e.dwell === 'number') what += ` after ${e.dwell.toFixed(1)} s`;
  const track = [e.track_id !== undefined ? `#${e.track_id}` : '', e.label ?? ''].join(' ').trim();
  return track ? `${what} · ${track}` : what;
}

// The stream's newest events, each with the thumbnail of its frame when the server has one; items are
// kept by event, so a poll that brings nothing new changes nothing on the page.
class EventList {
  constructor() {
    this.root = element('ul', { class: 'event-list' });
    this.empty = element('p', { class: 'no-events' }, 'no events yet');
    this.items = new Map(); // key -> <li>
  }

  setEvents(events) {
    const shown = events.slice(0, MAX_EVENTS);
    const keys = new Set(shown.map(eventKey));
    for (const [key, item] of this.items) {
      if (!keys.has(key)) {
        item.remove();
        this.items.delete(key);
      }
    }
    shown.forEach((e, index) => {
      const key = eventKey(e);
      let item = this.items.get(key);
      if (!item) item = this.makeItem(e, key);
      if (this.root.children[index] !== item) this.root.insertBefore(item, this.root.children[index] ?? null);
    });
    this.empty.hidden = shown.length > 0;
  }

  makeItem(e, key) {
    const item = element('li', { class: 'event-item', 'data-type': String(e.type ?? '') });
    if (typeof e.thumbnail === 'string' && e.thumbnail.startsWith('/api/')) {
      item.append(element('img', { class: 'event-thumb', src: e.thumbnail, alt: eventText(e), loading: 'lazy' }));
    } else {
      item.append(element('span', { class: 'event-thumb no-thumb' }));
    }
    const time = typeof e.ts === 'number' ? new Date(e.ts * 1000).toLocaleTimeString() : '';
    const text = element('div', { class: 'event-text' });
    text.append(element('span', { class: 'event-what' }, eventText(e)), element('span', { class: 'event-time' }, time));
    item.append(text);
    this.items.set(key, item);
    return item;
  }
}

// --- the per-stage latency bar -------------------------------------------------------------------

// One algorithm's stages as a horizontal stacked bar (widths in proportion to the milliseconds), with
// a legend that gives each stage's value.
class LatencyBar {
  constructor(algorithmName) {
    this.root = element('div', { class: 'latency', 'data-algo': algorithmName });
    this.title = element('div', { class: 'latency-title' });
    this.bar = element('div', { class: 'latency-bar', role: 'img' });
    this.legend = element('ul', { class: 'latency-legend' });
    this.segments = {};
    this.values = {};
    for (const stage of STAGES) {
      this.segments[stage] = element('span', { class: 'latency-segment', 'data-stage': stage });
      this.bar.append(this.segments[stage]);
      const item = element('li', { 'data-stage': stage });
      item.append(element('span', { class: 'swatch', 'data-stage': stage }), element('span', {}, stage));
      this.values[stage] = element('span', { class: 'value' });
      item.append(this.values[stage]);
      this.legend.append(item);
    }
    this.root.append(this.title, this.bar, this.legend);
  }

  update(stream, algorithm) {
    const latency = algorithm.latency_ms ?? {};
    const ms = Object.fromEntries(STAGES.map((stage) => [stage, stage === 'read' ? stream.read_ms : latency[stage]]));
    const sum = STAGES.reduce((total, stage) => total + (Number(ms[stage]) || 0), 0);
    this.title.textContent =
      `${algorithm.name} · ${formatNumber(algorithm.out_fps)} fps out · count ${algorithm.count ?? '–'}` +
      ` · ${formatNumber(sum)} ms per frame`;
    this.bar.setAttribute('aria-label', STAGES.map((stage) => `${stage} ${formatNumber(ms[stage])} ms`).join(', '));
    for (const stage of STAGES) {
      const value = Number(ms[stage]) || 0;
      this.segments[stage].style.width = sum > 0 ? `${(100 * value) / sum}%` : '0';
      this.segments[stage].dataset.ms = String(value);
      this.segments[stage].title = `${stage}: ${formatNumber(value, 2)} ms`;
      this.values[stage].textContent = `${formatNumber(value, value < 10 ? 2 : 1)} ms`;
    }
  }
}

// --- a stream's card -----------------------------------------------------------------------------

class StreamCard {
  constructor(name) {
    this.name = name;
    this.state = '';
    this.algorithm = null; // the charted one: the stream's first
    this.latencyBars = new Map();
    this.videoRetry = null;
    this.videoMode = null; // 'live' (MJPEG) or 'snapshot' (one JPEG)

    this.root = element('article', { class: 'stream-card', 'data-stream': name });
    const header = element('header', { class: 'stream-header' });
    header.append(element('h2', { class: 'stream-name' }, name));
    this.stateBadge = element('span', { class: 'stream-state' });
    this.stopButton = element('button', { type: 'button', class: 'stop-stream', hidden: '' }, 'Stop');
    this.stopButton.addEventListener('click', () => this.stop());
    header.append(this.stateBadge, this.stopButton);

    this.video = element('img', { class: 'live-video', alt: `live video of ${name}` });
    this.video.addEventListener('error', () => this.videoFailed());

    this.stats = element('dl', { class: 'stream-stats' });
    this.fields = {};
    for (const [key, label] of [['in_fps', 'in fps'], ['out_fps', 'out fps'], ['count', 'count'],
      ['frames_read', 'frames'], ['mode', 'mode'], ['viewers', 'viewers']]) {
      const wrapper = element('div');
      this.fields[key] = element('dd', { 'data-field': key }, '–');
      wrapper.append(element('dt', {}, label), this.fields[key]);
      this.stats.append(wrapper);
    }
    this.source = element('p', { class: 'stream-source' });
    this.error = element('p', { class: 'stream-error', hidden: '' });

    const canvas = element('canvas', { class: 'count-chart', 'aria-label': `counts over time of ${name}` });
    this.chart = new CountChart(canvas);
    this.countsError = element('p', { class: 'counts-error', hidden: '' });
    // Shown once the stream counts line crossings.
    this.crossings = element('section', { class: 'crossings', hidden: '' });
    const crossingsCanvas = element('canvas', { class: 'crossings-chart', 'aria-label': `line crossings of ${name}` });
    this.crossingsChart = new CrossingsChart(crossingsCanvas);
    this.crossings.append(element('h3', {}, 'Line crossings over the last 5 minutes'), crossingsCanvas);
    this.events = new EventList();
    this.latency = element('div', { class: 'latencies' });

    this.root.append(header, this.video, this.stats, this.source, this.error,
      element('h3', {}, 'Count over the last 5 minutes'), canvas, this.countsError, this.crossings,
      element('h3', {}, 'Events'), this.events.root, this.events.empty,
      element('h3', {}, 'Latency per stage'), this.latency);
  }

  update(stream) {
    this.state = stream.state;
    this.root.dataset.state = stream.state;
    this.stateBadge.dataset.state = stream.state;
    this.stateBadge.textContent = stream.state;
    const live = LIVE_STATES.has(stream.state);
    this.stopButton.hidden = !(stream.controllable && live);
    if (!live) {
      this.stopButton.disabled = false;
      this.stopButton.textContent = 'Stop';
    }

    const algorithms = Array.isArray(stream.algorithms) ? stream.algorithms : [];
    this.algorithm = algorithms[0]?.name ?? null;
    this.fields.in_fps.textContent = formatNumber(stream.in_fps);
    this.fields.out_fps.textContent = algorithms.map((a) => formatNumber(a.out_fps)).join(' · ') || '–';
    this.fields.count.textContent = algorithms.map((a) => a.count ?? '–').join(' · ') || '–';
    this.fields.frames_read.textContent = String(stream.frames_read ?? '–');
    this.fields.mode.textContent = String(stream.mode ?? '–');
    this.fields.viewers.textContent = String(stream.viewers ?? '–');
    this.source.textContent = stream.source ?? '';
    this.error.hidden = !stream.error;
    this.error.textContent = stream.error ? `error: ${stream.error}` : '';

    for (const algorithm of algorithms) {
      if (!this.latencyBars.has(algorithm.name)) {
        const bar = new LatencyBar(algorithm.name);
        this.latencyBars.set(algorithm.name, bar);
        this.latency.append(bar.root);
      }
      this.latencyBars.get(algorithm.name).update(stream, algorithm);
    }

    // Live: the MJPEG stream. Over: the last frame as one JPEG, which also frees the connection (a
    // browser keeps only ~6 per server, and the polls need some).
    if (live && this.videoMode !== 'live') this.showVideo();
    if (!live && this.videoMode !== 'snapshot') this.showSnapshot();
  }

  showVideo() {
    clearTimeout(this.videoRetry);
    this.videoMode = 'live';
    this.video.hidden = false;
    this.video.src = `/video/${encodeURIComponent(this.name)}`;
  }

  showSnapshot() {
    clearTimeout(this.videoRetry);
    this.videoMode = 'snapshot';
    this.video.hidden = false;
    this.video.src = `/snapshot/${encodeURIComponent(this.name)}`;
  }

  // A stream that is starting has no frame yet: try again while it is live. A stream that is over and
  // has no snapshot shows no image.
  videoFailed() {
    if (this.videoMode !== 'live') {
      this.video.hidden = true;
      return;
    }
    this.video.removeAttribute('src');
    clearTimeout(this.videoRetry);
    this.videoRetry = setTimeout(() => {
      if (this.videoMode === 'live') this.showVideo();
    }, VIDEO_RETRY_MS);
  }

  async refreshCounts() {
    if (!this.algorithm) return;
    const from = Math.floor(Date.now() / 1000) - CHART_WINDOW_S;
    // The last minutes as they happened: capture time, whatever the stream's own clock.
    const series = { stream: this.name, algo: this.algorithm, step: '1s', from: String(from), clock: 'wall' };
    const query = new URLSearchParams(series);
    const lines = new URLSearchParams(series);
    const events = new URLSearchParams({ stream: this.name, limit: String(MAX_EVENTS) });
    try {
      const [counts, crossings, recent] = await Promise.all([
        api('GET', `/api/counts?${query}`), api('GET', `/api/lines?${lines}`), api('GET', `/api/events?${events}`)]);
      this.chart.setPoints(Array.isArray(counts?.points) ? counts.points : []);
      const perLine = crossings?.lines && typeof crossings.lines === 'object' ? crossings.lines : {};
      this.crossings.hidden = Object.keys(perLine).length === 0;
      this.crossingsChart.setLines(perLine);
      this.events.setEvents(Array.isArray(recent?.events) ? recent.events : []);
      this.countsError.hidden = true;
    } catch (error) {
      this.countsError.hidden = false;
      this.countsError.textContent = `counts: ${error.message}`;
    }
  }

  // The card keeps showing the server's state: a stream finishes the run in flight before it is
  // stopped, so the button says "Stopping…" until the polls see it over.
  async stop() {
    this.stopButton.disabled = true;
    try {
      await api('DELETE', `/api/streams/${encodeURIComponent(this.name)}`);
      this.stopButton.textContent = 'Stopping…';
    } catch (error) {
      reportControlError(error);
      this.stopButton.disabled = false;
    }
  }

  remove() {
    clearTimeout(this.videoRetry);
    this.video.removeAttribute('src'); // closes the MJPEG connection
    this.root.remove();
  }
}

// --- polling -------------------------------------------------------------------------------------

async function pollStreams() {
  try {
    const answer = await api('GET', '/api/streams');
    const streams = Array.isArray(answer?.streams) ? answer.streams : [];
    setConnection(true);
    const present = new Set();
    for (const stream of streams) {
      present.add(stream.name);
      let card = cards.get(stream.name);
      const isNew = !card;
      if (isNew) {
        card = new StreamCard(stream.name);
        cards.set(stream.name, card);
        document.getElementById('streams').append(card.root);
      }
      card.update(stream);
      if (isNew) card.refreshCounts();
    }
    for (const [name, card] of cards) {
      if (!present.has(name)) {
        card.remove();
        cards.delete(name);
      }
    }
    document.getElementById('no-streams').hidden = cards.size > 0;
  } catch (error) {
    setConnection(false, error.message);
  } finally {
    setTimeout(pollStreams, STREAMS_POLL_MS);
  }
}

async function pollCounts() {
  await Promise.all([...cards.values()].map((card) => card.refreshCounts()));
  setTimeout(pollCounts, COUNTS_POLL_MS);
}

// --- controls ------------------------------------------------------------------------------------

function reportControlError(error) {
  showMessage(error.message);
  if (error.status === 401) {
    showMessage('The server wants the API token: enter it at the top and press Save.', 'notice');
    document.getElementById('token').focus();
  }
}

function setUpTokenForm() {
  const form = document.getElementById('token-form');
  const input = document.getElementById('token');
  input.value = localStorage.getItem(TOKEN_KEY) ?? '';
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const token = input.value.trim();
    if (token) localStorage.setItem(TOKEN_KEY, token);
    else localStorage.removeItem(TOKEN_KEY);
    showMessage(token ? 'token saved in this browser' : 'token removed', 'notice');
  });
}

// The form's fields as the POST /api/streams body; empty optional numbers are left to the server.
function startRequest(form) {
  const fields = new FormData(form);
  const body = {
    name: fields.get('name').trim(),
    source: fields.get('source').trim(),
    detector: fields.get('detector').trim(),
    mode: fields.get('mode'),
    loop: fields.get('loop') === 'on',
  };
  for (const key of ['frame_step', 'interval']) {
    const value = fields.get(key);
    if (value !== '') body[key] = Number(value);
  }
  return body;
}

function setUpStartForm() {
  const form = document.getElementById('start-form');
  const submit = document.getElementById('start-submit');
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    submit.disabled = true;
    try {
      const stream = await api('POST', '/api/streams', startRequest(form));
      showMessage(`started ${stream?.name ?? ''}`, 'notice');
      form.elements.name.value = '';
    } catch (error) {
      reportControlError(error);
    } finally {
      submit.disabled = false;
    }
  });
}

setUpTokenForm();
setUpStartForm();
pollStreams();
pollCounts();
