extension DashboardPage {
    /// The dashboard's drawing side: formatting helpers and the functions
    /// that turn API answers into DOM nodes. Server text only ever becomes a
    /// text node or an attribute value (through `el`), never markup.
    static let render: String = #"""
// ---- formatting -----------------------------------------------------------------
const num = (v) => (typeof v === 'number' && Number.isFinite(v)) ? v : 0;
const fmtInt = (v) => Math.round(num(v)).toLocaleString('en-US');

function fmtRate(v) {
  v = num(v);
  if (v === 0) return '0';
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
}

function fmtBytes(v) {
  v = num(v);
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return (i === 0 ? String(v) : v.toFixed(v >= 100 ? 0 : 1)) + ' ' + units[i];
}

function fmtDuration(ms) {
  ms = Math.max(0, num(ms));
  if (ms < 1000) return Math.round(ms) + ' ms';
  const s = Math.floor(ms / 1000);
  if (s < 60) return s + 's';
  const m = Math.floor(s / 60);
  if (m < 60) return m + 'm ' + (s % 60) + 's';
  const h = Math.floor(m / 60);
  if (h < 24) return h + 'h ' + (m % 60) + 'm';
  return Math.floor(h / 24) + 'd ' + (h % 24) + 'h';
}

// A unix-ms time as local "YYYY-MM-DD HH:MM:SS", or a dash when unset.
function fmtTime(ms) {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms <= 0) return '–';
  const d = new Date(ms);
  const p = (n) => String(n).padStart(2, '0');
  return d.getFullYear() + '-' + p(d.getMonth() + 1) + '-' + p(d.getDate()) + ' ' +
    p(d.getHours()) + ':' + p(d.getMinutes()) + ':' + p(d.getSeconds());
}

const ago = (ms) => (typeof ms === 'number' && ms > 0) ? fmtDuration(Date.now() - ms) + ' ago' : '';

// ---- DOM building -------------------------------------------------------------------
// The only way anything reaches the page: children become text nodes, attribute
// values are set as values, handlers are functions of this script.
function el(tag, attrs, ...children) {
  return fill(document.createElement(tag), attrs, children);
}

function svgEl(tag, attrs) {
  return fill(document.createElementNS('http://www.w3.org/2000/svg', tag), attrs, []);
}

function fill(node, attrs, children) {
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (typeof value === 'function') node.addEventListener(key.replace(/^on/, ''), value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

const badge = (text, kind) => el('span', { class: 'badge ' + (kind || '') }, text);

function stat(field, label, ...value) {
  return el('div', { class: 'stat', 'data-field': field },
    el('span', { class: 'label' }, label), el('span', { class: 'value' }, ...value));
}

// ---- server status ------------------------------------------------------------------
function renderServer(s) {
  const aof = s.aof || {};
  const jobs = s.jobs || {};
  const used = num(s.used_memory), max = num(s.maxmemory);
  const share = max > 0 ? Math.min(1, used / max) : 0;
  const memory = stat('memory', 'Memory', fmtBytes(used) + ' / ' + (max > 0 ? fmtBytes(max) : 'no limit'));
  if (max > 0) {
    memory.append(el('div', { class: 'meter' + (share > 0.9 ? ' high' : ''), title: Math.round(share * 100) + '% of maxmemory' },
      el('span', { style: 'width:' + (share * 100).toFixed(1) + '%' })));
  }
  const aofValue = aof.enabled
    ? [el('span', {}, String(aof.fsync || '?') + ' · ' + fmtBytes(aof.size)),
       badge(aof.last_write_status === 'ok' ? 'ok' : 'write ' + String(aof.last_write_status || '?'),
             aof.last_write_status === 'ok' ? 'ok' : 'bad'),
       num(aof.fsync_lag_ms) > 1000 ? badge('fsync lag ' + fmtDuration(aof.fsync_lag_ms), 'warn') : null]
    : ['off'];
  const condition = [];
  if (s.loading) condition.push(badge('loading', 'warn'));
  if (s.shutting_down) condition.push(badge('shutting down', 'bad'));
  if (!condition.length) condition.push(badge('serving', 'ok'));
  $('server-status').replaceChildren(
    stat('state', 'State', condition),
    stat('version', 'Version', String(s.version ?? '?')),
    stat('uptime', 'Uptime', fmtDuration(num(s.uptime_seconds) * 1000)),
    stat('clients', 'Clients', fmtInt(s.clients)),
    memory,
    stat('ops', 'Ops/s', fmtInt(s.ops_per_sec)),
    stat('aof', 'AOF', aofValue),
    stat('jobs', 'Jobs', fmtInt(jobs.pending) + ' pending · ' + fmtInt(jobs.active) + ' active · ' +
      fmtInt(jobs.delayed) + ' delayed'),
    stat('dead', 'Dead', fmtInt(jobs.dead)));
}

// ---- queues -------------------------------------------------------------------------
function renderQueues(queues) {
  $('queues').tBodies[0].replaceChildren(...queues.map(queueRow));
  $('queues-empty').hidden = queues.length > 0;
}

function numCell(field, label, value, extra, alert) {
  return el('td', { class: 'num' + (alert && num(value) > 0 ? ' alert' : ''), 'data-field': field,
                    'data-label': label, 'data-value': num(value) },
    el('span', { class: 'v' }, el('span', {}, fmtInt(value)), extra));
}

function rateCell(field, label, value, samples) {
  return el('td', { class: 'rate-cell', 'data-field': field, 'data-label': label, 'data-value': num(value) },
    el('span', { class: 'rate' }, el('span', {}, fmtRate(value)), sparkline(samples)));
}

// Pending jobs per priority level (0 = most urgent), the non-empty levels only.
function priorityBreakdown(byPriority) {
  const levels = Object.entries(byPriority || {})
    .map(([p, n]) => [Number(p), num(n)])
    .filter(([p, n]) => Number.isFinite(p) && n > 0)
    .sort((a, b) => a[0] - b[0]);
  if (!levels.length) return null;
  return el('span', { class: 'prio', title: 'pending by priority (0 = most urgent)' },
    levels.map(([p, n]) => el('span', { 'data-priority': p }, 'p' + p + ': ' + fmtInt(n))));
}

// A line of the last samples, scaled to its own maximum; the newest is at the right.
function sparkline(samples) {
  const w = 64, h = 18;
  const svg = svgEl('svg', { class: 'spark', width: w, height: h, viewBox: '0 0 ' + w + ' ' + h, 'aria-hidden': 'true' });
  svg.append(svgEl('line', { x1: 0, y1: h - 0.5, x2: w, y2: h - 0.5, stroke: 'currentColor', 'stroke-opacity': '0.25' }));
  const values = (samples || []).map(num);
  if (values.length < 2) return svg;
  const max = Math.max(...values);
  if (max === 0) return svg; // nothing happened: the baseline says so
  const step = w / (SPARK_SAMPLES - 1);
  const x0 = w - (values.length - 1) * step;
  const points = values.map((v, i) => (x0 + i * step).toFixed(1) + ',' +
    (h - 1 - (v / max) * (h - 3)).toFixed(1));
  svg.append(
    svgEl('polygon', { points: x0.toFixed(1) + ',' + h + ' ' + points.join(' ') + ' ' + w + ',' + h,
                       fill: 'currentColor', 'fill-opacity': '0.15', stroke: 'none' }),
    svgEl('polyline', { points: points.join(' '), fill: 'none', stroke: 'currentColor', 'stroke-width': '1.5',
                        'stroke-linejoin': 'round' }));
  return svg;
}

function queueRow(q) {
  const name = String(q.name);
  const h = state.history.get(name) || { enq: [], done: [] };
  const toggle = el('button', { type: 'button', onclick: (e) => { e.stopPropagation(); pauseOrResume(q, e.currentTarget); } },
    q.paused ? 'Resume' : 'Pause');
  return el('tr', { 'data-queue': name, tabindex: '0', class: name === state.queue ? 'selected' : null,
                    onclick: () => openQueue(name, true),
                    onkeydown: (e) => { if (e.key === 'Enter' && e.target === e.currentTarget) openQueue(name, true); } },
    el('th', { scope: 'row', 'data-field': 'name' }, el('span', { class: 'qname' }, name),
      q.paused ? badge('paused', 'warn') : null),
    numCell('pending', 'Pending', q.pending, priorityBreakdown(q.pending_by_priority)),
    numCell('delayed', 'Delayed', q.delayed),
    numCell('active', 'Active', q.active),
    numCell('completed', 'Completed', q.completed),
    numCell('failed', 'Failed', q.failed),
    numCell('dead', 'Dead', q.dead, null, true),
    rateCell('enqueue_rate', 'Enqueued /s', q.enqueue_rate, h.enq),
    rateCell('complete_rate', 'Completed /s', q.complete_rate, h.done),
    el('td', { 'data-field': 'oldest_pending', 'data-label': 'Oldest pending', 'data-value': num(q.oldest_pending_ms) },
      el('span', { class: 'v' }, num(q.pending) > 0 ? fmtDuration(q.oldest_pending_ms) : '–')),
    el('td', { class: 'row-actions' }, toggle));
}

// ---- workers ------------------------------------------------------------------------
function renderWorkers(pools) {
  $('workers').tBodies[0].replaceChildren(...pools.map((p) => el('tr', {},
    el('td', { 'data-field': 'queues' }, el('span', { class: 'qname' }, (p.queues || []).map(String).join(', '))),
    el('td', { 'data-field': 'handler' }, String(p.handler ?? '')),
    el('td', { class: 'num', 'data-field': 'busy' }, fmtInt(p.busy) + ' / ' + fmtInt(p.concurrency)),
    el('td', { class: 'num', 'data-field': 'idle' }, fmtInt(p.idle)),
    el('td', { class: 'num', 'data-field': 'completed' }, fmtInt(p.completed)),
    el('td', { class: 'num', 'data-field': 'failed' }, fmtInt(p.failed)),
    el('td', { class: 'num', 'data-field': 'timed_out' }, fmtInt(p.timed_out)),
    el('td', { class: 'num', 'data-field': 'canceled' }, fmtInt(p.canceled)),
    el('td', { class: 'num', 'data-field': 'mean_ms' }, fmtDuration(p.mean_ms)),
    el('td', { class: 'num', 'data-field': 'p99_ms' }, fmtDuration(p.p99_ms)))));
  $('workers-empty').hidden = pools.length > 0;
}

// ---- queue detail -------------------------------------------------------------------
function renderDetail(q, dead) {
  $('detail-summary').replaceChildren(...(q ? [
    stat('state', 'State', q.paused ? badge('paused', 'warn') : badge('running', 'ok')),
    stat('pending', 'Pending', fmtInt(q.pending)),
    stat('leased', 'Leased', fmtInt(q.leased)),
    stat('workers', 'Workers', fmtInt(q.workers)),
    stat('enqueued', 'Enqueued', fmtInt(q.enqueued)),
    stat('expired', 'Expired', fmtInt(q.expired)),
    stat('canceled', 'Canceled', fmtInt(q.canceled)),
    stat('default_priority', 'Default priority', fmtInt(q.default_priority)),
  ] : []));
  // Redrawn only when the list changed, so an open error list or a text
  // selection survives the 2 s refresh.
  const key = JSON.stringify(dead);
  if (key === state.deadKey) return;
  state.deadKey = key;
  $('dead').tBodies[0].replaceChildren(...dead.map(deadRow));
  $('dead-empty').hidden = dead.length > 0;
  $('dead-count').textContent = dead.length ? '(' + dead.length + (dead.length >= 50 ? ', the first 50' : '') + ')' : '';
}

function deadRow(job) {
  const id = String(job.id);
  const errors = Array.isArray(job.errors) ? job.errors.map(String) : [];
  const payload = String(job.payload ?? '');
  return el('tr', { 'data-job-id': id },
    el('td', { 'data-field': 'id', 'data-label': 'Job' },
      el('button', { type: 'button', class: 'link', title: 'look this job up', onclick: () => lookupJob(id) }, id)),
    el('td', { class: 'num', 'data-field': 'attempts', 'data-label': 'Attempts' }, fmtInt(job.attempts)),
    el('td', { class: 'error wide', 'data-field': 'last_error', 'data-label': 'Last error' },
      el('pre', {}, String(job.last_error ?? '')),
      errors.length > 1 ? el('details', {}, el('summary', {}, 'all ' + errors.length + ' errors'),
        el('ol', {}, errors.map((text) => el('li', {}, text)))) : null),
    el('td', { 'data-field': 'finished_at', 'data-label': 'Finished', title: ago(job.finished_at_ms) },
      fmtTime(job.finished_at_ms)),
    el('td', { class: 'wide', 'data-field': 'payload', 'data-label': 'Payload' },
      el('code', { class: 'payload', title: payload.slice(0, 1000) }, payload.slice(0, 200)),
      el('span', { class: 'muted' }, ' ' + fmtBytes(job.payload_size))),
    el('td', { class: 'row-actions' },
      el('button', { type: 'button', onclick: (e) => retryJob(id, $('detail-msg'), e.currentTarget) }, 'Retry')));
}

// ---- job lookup ---------------------------------------------------------------------
const STATE_KIND = { completed: 'ok', active: 'ok', pending: '', delayed: '', failed: 'bad', dead: 'bad',
                     expired: 'warn', canceled: 'warn' };

function renderJob(job) {
  const fields = $('job-fields');
  if (!job) {
    fields.hidden = true;
    $('job-actions').hidden = true;
    return;
  }
  const when = (ms) => ms == null ? '–' : fmtTime(ms) + (ago(ms) ? ' (' + ago(ms) + ')' : '');
  const jobState = String(job.state ?? '?');
  const rows = [
    ['id', 'Id', String(job.id)],
    ['state', 'State', badge(jobState, STATE_KIND[jobState])],
    ['queue', 'Queue', el('span', { class: 'qname' }, String(job.queue ?? ''))],
    ['priority', 'Priority', fmtInt(job.priority)],
    ['attempts', 'Attempts', fmtInt(job.attempts) + ' of ' + fmtInt(num(job.max_retries) + 1)],
    ['created_at', 'Created', when(job.created_at_ms)],
    ['scheduled_at', 'Scheduled', when(job.scheduled_at_ms)],
    ['started_at', 'Started', when(job.started_at_ms)],
    ['finished_at', 'Finished', when(job.finished_at_ms)],
    ['lease_deadline', 'Lease ends', job.lease_deadline_ms == null ? '–' : fmtTime(job.lease_deadline_ms)],
    ['last_error', 'Last error', job.last_error == null ? '–' : el('pre', {}, String(job.last_error))],
    ['result_size', 'Result', fmtBytes(job.result_size)],
  ];
  fields.replaceChildren(...rows.flatMap(([field, label, value]) =>
    [el('dt', {}, label), el('dd', { 'data-field': field }, value)]));
  fields.hidden = false;
  const actions = $('job-actions');
  actions.hidden = false;
  actions.querySelector('[data-action="retry-job"]').hidden = !['dead', 'failed', 'canceled', 'expired'].includes(jobState);
  actions.querySelector('[data-action="cancel-job"]').hidden = !['pending', 'delayed', 'active'].includes(jobState);
}
"""#
}
