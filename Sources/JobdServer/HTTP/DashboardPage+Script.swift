extension DashboardPage {
    /// The dashboard's data side: the API client (bearer token from
    /// sessionStorage, 401 turns into the password form), the 2 s poll, the
    /// sparkline history and the actions. Drawing is in
    /// DashboardPage+Render.swift.
    static let script: String = #"""
'use strict';
const POLL_MS = 2000;
const SPARK_SAMPLES = 60;
const PASSWORD_KEY = 'jobd-password';
const $ = (id) => document.getElementById(id);
const enc = encodeURIComponent;

const state = {
  password: sessionStorage.getItem(PASSWORD_KEY) || '',
  needAuth: false,
  queue: null,          // the queue whose detail is open
  job: null,            // the job shown in the lookup panel
  history: new Map(),   // queue name -> {enq: [rates], done: [rates]}
  deadKey: '',          // what the dead-letter table shows, to redraw only on change
  timer: 0,
  inFlight: false,
  again: false,
};

class AuthError extends Error {}

// One API call. Bodies are JSON both ways; errors carry the server's {"error"}.
async function api(path, method) {
  const headers = { 'Accept': 'application/json' };
  if (state.password) headers['Authorization'] = 'Bearer ' + state.password;
  let res;
  try {
    res = await fetch(path, { method: method || 'GET', headers, cache: 'no-store' });
  } catch (e) {
    throw new Error('server unreachable');
  }
  let body = null;
  try { body = await res.json(); } catch (e) { body = null; }
  const message = body && typeof body.error === 'string' ? body.error : 'HTTP ' + res.status;
  if (res.status === 401) throw new AuthError(message);
  if (!res.ok) {
    const err = new Error(message);
    err.status = res.status;
    err.path = path;
    throw err;
  }
  return body || {};
}

// The poll loop: one request per panel, then the next round 2 s after this
// one ends (never two rounds at once; an action asks for an early round).
// Each panel is drawn from its own answer, so one failing endpoint leaves
// the others live.
async function poll() {
  if (state.inFlight) { state.again = true; return; }
  clearTimeout(state.timer);
  state.inFlight = true;
  try {
    const [server, queues, workers] = await Promise.allSettled([
      api('/api/server'), api('/api/queues'), api('/api/workers')]);
    const failures = [server, queues, workers].filter((r) => r.status === 'rejected').map((r) => r.reason);
    const authFailure = failures.find((e) => e instanceof AuthError);
    if (authFailure) throw authFailure;
    if (server.status === 'fulfilled') renderServer(server.value);
    if (queues.status === 'fulfilled') {
      const list = Array.isArray(queues.value.queues) ? queues.value.queues : [];
      recordHistory(list);
      renderQueues(list);
    }
    if (workers.status === 'fulfilled') renderWorkers(Array.isArray(workers.value.pools) ? workers.value.pools : []);
    if (state.queue !== null) await refreshDetail();
    if (failures.length === 3) setConnection(failures[0].message, 'bad');
    else if (failures.length) setConnection(failures[0].path + ': ' + failures[0].message, 'warn');
    else setConnection('live', 'ok');
    if (failures.length < 3) $('updated').textContent = new Date().toLocaleTimeString();
  } catch (e) {
    if (e instanceof AuthError) askPassword();
    else setConnection(e.message, 'bad');
  } finally {
    state.inFlight = false;
  }
  if (state.needAuth) return;
  state.timer = setTimeout(poll, state.again ? 0 : POLL_MS);
  state.again = false;
}

// Rates are sampled at each poll; the sparklines draw the last SPARK_SAMPLES.
function recordHistory(queues) {
  const seen = new Set();
  for (const q of queues) {
    seen.add(q.name);
    let h = state.history.get(q.name);
    if (!h) { h = { enq: [], done: [] }; state.history.set(q.name, h); }
    h.enq.push(num(q.enqueue_rate));
    h.done.push(num(q.complete_rate));
    if (h.enq.length > SPARK_SAMPLES) h.enq.shift();
    if (h.done.length > SPARK_SAMPLES) h.done.shift();
  }
  for (const name of [...state.history.keys()]) if (!seen.has(name)) state.history.delete(name);
}

function setConnection(text, kind) {
  const badge = $('conn');
  badge.textContent = text;
  badge.className = 'badge ' + kind;
}

// A message next to where the action was taken; it fades after a while.
function say(area, text, kind) {
  area.textContent = text;
  area.className = 'msg ' + (kind || '');
  clearTimeout(area.fadeTimer);
  area.fadeTimer = setTimeout(() => { if (area.textContent === text) area.textContent = ''; }, 10000);
}

// ---- password ---------------------------------------------------------------
function askPassword() {
  state.needAuth = true;
  clearTimeout(state.timer);
  $('auth-form').hidden = false;
  setConnection('locked', 'warn');
  say($('auth-msg'), state.password ? 'Wrong password.' : 'Enter the server password to see the dashboard.',
      state.password ? 'bad' : '');
  $('auth-password').focus();
}

$('auth-form').addEventListener('submit', (e) => {
  e.preventDefault();
  state.password = $('auth-password').value;
  sessionStorage.setItem(PASSWORD_KEY, state.password);
  $('auth-password').value = '';
  $('auth-form').hidden = true;
  $('sign-out').hidden = false;
  state.needAuth = false;
  poll();
});

$('sign-out').hidden = !state.password;
$('sign-out').addEventListener('click', () => {
  sessionStorage.removeItem(PASSWORD_KEY);
  location.reload();
});

// ---- queue detail -----------------------------------------------------------
function openQueue(name, scroll) {
  state.queue = name;
  state.deadKey = '';
  history.replaceState(null, '', '#queue=' + enc(name));
  $('detail-name').textContent = name;
  $('queue-detail').hidden = false;
  $('dead').tBodies[0].replaceChildren();
  $('detail-summary').replaceChildren();
  for (const row of $('queues').tBodies[0].rows) row.classList.toggle('selected', row.dataset.queue === name);
  if (scroll) $('queue-detail').scrollIntoView({ behavior: 'smooth', block: 'start' });
  poll();
}

function closeQueue() {
  state.queue = null;
  history.replaceState(null, '', location.pathname);
  $('queue-detail').hidden = true;
  for (const row of $('queues').tBodies[0].rows) row.classList.remove('selected');
}
$('detail-close').addEventListener('click', closeQueue);

async function refreshDetail() {
  const name = state.queue;
  try {
    const [queue, dead] = await Promise.all([
      api('/api/queues/' + enc(name)), api('/api/queues/' + enc(name) + '/dead?count=50')]);
    if (name !== state.queue) return;
    renderDetail(queue, Array.isArray(dead.jobs) ? dead.jobs : []);
  } catch (e) {
    if (e instanceof AuthError) throw e;
    if (name !== state.queue) return;
    if (e.status === 404) {
      renderDetail(null, []);
      say($('detail-msg'), 'Queue "' + name + '" does not exist (an emptied queue disappears).', 'bad');
    } else {
      say($('detail-msg'), e.message, 'bad');
    }
  }
}

// ---- actions ------------------------------------------------------------------
// POST an action; the answer is written next to the button, then the panels refresh.
async function act(path, area, describe, button) {
  if (button) button.disabled = true;
  try {
    const answer = await api(path, 'POST');
    say(area, describe(answer), 'ok');
  } catch (e) {
    if (e instanceof AuthError) askPassword();
    else say(area, e.message, 'bad');
  } finally {
    if (button) button.disabled = false;
  }
  if (!state.needAuth) poll();
}

const queuePath = (name) => '/api/queues/' + enc(name);

function pauseOrResume(q, button) {
  const verb = q.paused ? 'resume' : 'pause';
  act(queuePath(q.name) + '/' + verb, $('queues-msg'),
      () => (q.paused ? 'Resumed ' : 'Paused ') + q.name + '.', button);
}

function retryJob(id, area, button) {
  act('/api/jobs/' + enc(id) + '/retry', area, () => 'Job ' + id + ' queued again.', button);
}

$('queue-detail').addEventListener('click', (e) => {
  const button = e.target.closest('button[data-action]');
  if (!button || state.queue === null) return;
  const name = state.queue;
  const area = $('detail-msg');
  switch (button.dataset.action) {
  case 'requeue-dead':
    act(queuePath(name) + '/dead/requeue', area, (r) => 'Requeued ' + num(r.requeued) + ' dead job(s).', button);
    break;
  case 'purge-dead':
    if (confirm('Delete every dead letter of queue "' + name + '"? This cannot be undone.')) {
      act(queuePath(name) + '/dead/purge', area, (r) => 'Purged ' + num(r.purged) + ' dead job(s).', button);
    }
    break;
  case 'purge-pending':
    if (confirm('Delete every pending job of queue "' + name + '"? This cannot be undone.')) {
      act(queuePath(name) + '/purge', area, (r) => 'Purged ' + num(r.purged) + ' pending job(s).', button);
    }
    break;
  }
});

// ---- job lookup ---------------------------------------------------------------
// `refresh` keeps the message an action just wrote.
async function lookupJob(id, refresh) {
  id = String(id).trim();
  if (!id) return;
  $('job-id').value = id;
  state.job = id;
  const area = $('job-msg');
  try {
    const job = await api('/api/jobs/' + enc(id));
    if (state.job !== id) return;
    renderJob(job);
    if (!refresh) say(area, '', '');
  } catch (e) {
    if (e instanceof AuthError) { askPassword(); return; }
    renderJob(null);
    say(area, e.status === 404 ? 'No job with id ' + id + '.' : e.message, 'bad');
  }
}

$('job-form').addEventListener('submit', (e) => {
  e.preventDefault();
  lookupJob($('job-id').value);
});

$('job-actions').addEventListener('click', (e) => {
  const button = e.target.closest('button[data-action]');
  if (!button || state.job === null) return;
  const id = state.job;
  const area = $('job-msg');
  const after = () => lookupJob(id, true);
  if (button.dataset.action === 'retry-job') {
    act('/api/jobs/' + enc(id) + '/retry', area, () => 'Job ' + id + ' queued again.', button).then(after);
  } else if (confirm('Cancel job ' + id + '?')) {
    act('/api/jobs/' + enc(id) + '/cancel', area, () => 'Job ' + id + ' canceled.', button).then(after);
  }
});

// ---- start ----------------------------------------------------------------------
// #queue=NAME opens a queue's detail and #job=ID looks a job up, so both can be linked.
function startFromHash() {
  const params = new URLSearchParams(location.hash.slice(1));
  if (params.has('job')) lookupJob(params.get('job'));
  if (params.has('queue')) openQueue(params.get('queue'), false);
  else poll();
}
startFromHash();
"""#
}
