// solvertune dashboard: a single-page UI on the service's REST API.
// Rules kept throughout: every string from the server or the user reaches the page through textContent or an
// attribute value (never innerHTML); no inline script or style (the Content-Security-Policy forbids both); the bearer
// token lives in sessionStorage only and travels in the Authorization header, never in a URL or a cookie.

const TOKEN = 'solvertune.token';
const WHO = 'solvertune.whoami';
const RANK = {reader: 1, submitter: 2, admin: 3};
const METHODS = ['dpmsolver-v3', 'consistency-solver', 'dc', 'dc-final', 'dode', 'dode-teacher', 'iia-ddim', 'iia-dpmsolver++2m', 'iia-edm',
  'biia-edm'];
const SPACINGS = ['time_uniform', 'logSNR', 'time_quadratic', 'karras'];
// tuning-jobs/gmm-quick.json (the README's example job) and a smaller one for a quick look / the browser test.
const EXAMPLES = {
  'gmm-quick': {model: 'gmm-sd-d32', methods: ['dpmsolver-v3', 'iia-ddim'], nfe: [5, 6], guidance: [7.5],
    teacher: {steps: 200, recordEvery: 4, tolerance: 1e-4, checkSeeds: 8},
    seeds: {train: 256, heldOut: 128, trainBase: 0, heldOutBase: 1000000, shardSize: 64, fitRows: 128,
      coefficientFitRows: 128}, batch: 64},
  'gmm-tiny': {model: 'gmm-sd-d32', methods: ['dode'], nfe: [5, 6], guidance: [7.5], spacings: ['logSNR'],
    teacher: {steps: 60, recordEvery: 2, tolerance: 1e-2, checkSeeds: 4},
    seeds: {train: 32, heldOut: 12, shardSize: 16, fitRows: 16}},
};
const PALETTE = ['#0b5cad', '#b2182b', '#1b7837', '#7b3294', '#d95f02', '#01665e', '#8c510a', '#4d4d4d', '#c51b7d',
  '#2166ac'];

// ---- tiny DOM helpers (text only) -----------------------------------------------------------------------------------

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'value' || k === 'checked' || k === 'disabled' || k === 'selected') el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

function svg(tag, attrs, ...children) {
  const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
  for (const c of children.flat()) if (c !== null && c !== undefined) el.append(c instanceof Node ? c : String(c));
  return el;
}

const main = () => document.getElementById('main');

function page(title, ...children) {
  document.title = title + ' · solvertune';
  const m = main();
  replace(m, h('h1', {}, title), children);
  return m;
}

function say(text, kind = 'ok') {
  const s = document.getElementById('status');
  s.replaceChildren(h('p', {class: 'msg ' + kind}, text));
}

function clearStatus() {
  document.getElementById('status').replaceChildren();
}

function fmtTime(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  return d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

function fmtDuration(sec) {
  if (sec === null || sec === undefined || !isFinite(sec)) return '—';
  sec = Math.max(0, Math.round(sec));
  const hr = Math.floor(sec / 3600), m = Math.floor(sec / 60) % 60, s = sec % 60;
  return hr > 0 ? `${hr} h ${m} min` : m > 0 ? `${m} min ${s} s` : `${s} s`;
}

function fmtNum(x, digits = 4) {
  if (x === null || x === undefined || x === '') return '—';
  const n = Number(x);
  if (!isFinite(n)) return String(x);
  if (Number.isInteger(n) && Math.abs(n) < 1e7) return String(n);
  return Math.abs(n) >= 1e4 || (Math.abs(n) < 1e-3 && n !== 0) ? n.toExponential(digits - 1) : n.toPrecision(digits);
}

function stateBadge(state) {
  return h('span', {class: 'state state-' + state}, state);
}

// ---- session and API ------------------------------------------------------------------------------------------------

function token() { return sessionStorage.getItem(TOKEN); }
function whoami() { try { return JSON.parse(sessionStorage.getItem(WHO)); } catch { return null; } }
function can(role) { const w = whoami(); return !!w && RANK[w.role] >= RANK[role]; }

function signOut(message) {
  sessionStorage.removeItem(TOKEN);
  sessionStorage.removeItem(WHO);
  stopStreams();
  renderChrome();
  flash = message ? [message, 'problem'] : null;
  if (location.hash === '#/signin') route();
  else location.hash = '#/signin';
}

// a message for the next page (shown after the route change that clears the status line)
let flash = null;

class ApiError extends Error {
  constructor(status, problem) {
    super((problem && (problem.detail || problem.title)) || ('HTTP ' + status));
    this.status = status;
    this.problem = problem || {status, title: 'HTTP ' + status};
  }
}

async function api(method, path, body, extraHeaders) {
  const headers = Object.assign({Accept: 'application/json, application/problem+json'}, extraHeaders || {});
  if (token()) headers.Authorization = 'Bearer ' + token();
  let payload;
  if (body !== undefined && body !== null) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  const res = await fetch(path, {method, headers, body: payload, cache: 'no-store'});
  return handle(res);
}

async function handle(res) {
  const type = res.headers.get('Content-Type') || '';
  let data = null;
  if (res.status !== 204) {
    const text = await res.text();
    if (text && (type.includes('json'))) {
      try { data = JSON.parse(text); } catch { data = {detail: text}; }
    } else if (text) {
      data = {detail: text};
    }
  }
  if (res.status === 401 && token()) {
    signOut('Your session was refused (401): ' + ((data && data.detail) || 'the token is not valid') +
      '. Sign in again.');
    throw new ApiError(401, data);
  }
  if (!res.ok) throw new ApiError(res.status, data);
  return {status: res.status, data, headers: res.headers};
}

function problemBox(err, fieldsShown) {
  const p = err instanceof ApiError ? err.problem : {title: 'Error', detail: String(err && err.message || err)};
  const errors = (p.errors || []).filter(e => !fieldsShown || !fieldsShown.has(e));
  return h('div', {class: 'problem', role: 'alert'},
    h('h2', {}, `${p.status || ''} ${p.title || 'Error'}`.trim()),
    p.detail ? h('p', {}, p.detail) : null,
    errors.length ? h('ul', {}, errors.map(e => h('li', {}, e.field ? h('code', {}, e.field) : null,
      e.field ? ': ' : '', e.message || ''))) : null);
}

async function guarded(fn) {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return;
    main().append(problemBox(e));
  }
}

// ---- fetch-based server-sent events (EventSource cannot send the Authorization header) ---------------------------

const streams = new Set();
function stopStreams() { for (const c of streams) c.abort(); streams.clear(); }

async function streamEvents(path, onEvent) {
  const ctl = new AbortController();
  streams.add(ctl);
  try {
    const res = await fetch(path, {headers: {Authorization: 'Bearer ' + token(), Accept: 'text/event-stream'},
      signal: ctl.signal, cache: 'no-store'});
    if (!res.ok) { await handle(res); return; }
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = '';
    for (;;) {
      const {value, done} = await reader.read();
      if (done) break;
      buf += value.replace(/\r\n/g, '\n');
      let i;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const chunk = buf.slice(0, i);
        buf = buf.slice(i + 2);
        let name = 'message', data = '';
        for (const line of chunk.split('\n')) {
          if (line.startsWith('event:')) name = line.slice(6).trim();
          else if (line.startsWith('data:')) data += (data ? '\n' : '') + line.slice(5).replace(/^ /, '');
        }
        if (data) {
          let parsed;
          try { parsed = JSON.parse(data); } catch { parsed = data; }
          onEvent(name, parsed);
        }
      }
    }
  } catch (e) {
    if (e.name !== 'AbortError' && !(e instanceof ApiError)) onEvent('error', {detail: String(e.message || e)});
  } finally {
    streams.delete(ctl);
  }
}

// ---- routing --------------------------------------------------------------------------------------------------------

const ROUTES = [
  [/^#\/signin$/, null, signInPage],
  [/^#\/overview$/, 'submitter', overviewPage],
  [/^#\/jobs$/, 'submitter', jobsPage],
  [/^#\/jobs\/new$/, 'submitter', submitPage],
  [/^#\/jobs\/(\d+)$/, 'submitter', jobPage],
  [/^#\/models$/, 'reader', modelsPage],
  [/^#\/models\/([^/]+)$/, 'reader', modelPage],
  [/^#\/models\/([^/]+)\/configs$/, 'reader', configsPage],
  [/^#\/configs\/(\d+)$/, 'reader', configPage],
  [/^#\/tokens$/, 'admin', tokensPage],
];

function navItems() {
  return [['#/overview', 'Overview', 'submitter'], ['#/jobs', 'Jobs', 'submitter'],
    ['#/jobs/new', 'Submit job', 'submitter'], ['#/models', 'Models', 'reader'], ['#/tokens', 'Tokens', 'admin']]
    .filter(([, , role]) => can(role));
}

function renderChrome() {
  const nav = document.getElementById('nav');
  const here = location.hash;
  nav.replaceChildren(...navItems().map(([href, label]) => h('a', {href,
    'aria-current': (here === href || (href !== '#/jobs' && here.startsWith(href + '/')) ||
      (href === '#/jobs' && /^#\/jobs\/\d+$/.test(here))) ? 'page' : null}, label)));
  const who = document.getElementById('who');
  const w = whoami();
  who.replaceChildren(...(w ? [h('span', {}, `${w.name} (${w.role})`),
    h('button', {type: 'button', id: 'signout', onclick: () => signOut('Signed out.')}, 'Sign out')] : []));
}

let pageSeq = 0;

async function route() {
  pageSeq++;
  stopStreams();
  clearStatus();
  if (flash) { say(...flash); flash = null; }
  let hash = location.hash || '';
  if (!token() && hash !== '#/signin') { location.hash = '#/signin'; return; }
  if (!hash || hash === '#' || hash === '#/') { location.hash = can('submitter') ? '#/overview' : '#/models'; return; }
  renderChrome();
  for (const [re, role, fn] of ROUTES) {
    const m = hash.match(re);
    if (!m) continue;
    if (role && !can(role)) {
      page('Not allowed', h('p', {}, `This page needs the role ${role}; your token has ${whoami().role}.`));
      return;
    }
    const t0 = performance.now();
    delete document.body.dataset.rendered;
    delete document.body.dataset.plotDrawn;
    await guarded(() => fn(...m.slice(1).map(decodeURIComponent)));
    // for the browser test and the benchmark: which page finished rendering, and how long it took
    document.body.dataset.renderMs = String(Math.round(performance.now() - t0));
    document.body.dataset.rendered = hash;
    main().focus({preventScroll: true});
    return;
  }
  page('Not found', h('p', {}, 'No such page.'));
}

// ---- sign-in --------------------------------------------------------------------------------------------------------

function signInPage() {
  const input = h('input', {type: 'password', id: 'token', name: 'token', autocomplete: 'off', required: true,
    spellcheck: 'false', 'aria-describedby': 'token-help'});
  const out = h('div', {});
  const form = h('form', {class: 'signin', id: 'signin-form', onsubmit: async ev => {
    ev.preventDefault();
    out.replaceChildren();
    const t = input.value.trim();
    try {
      const res = await fetch('/api/v1/whoami', {headers: {Authorization: 'Bearer ' + t}, cache: 'no-store'});
      if (!res.ok) { await handle(res); return; }
      const w = await res.json();
      sessionStorage.setItem(TOKEN, t);
      sessionStorage.setItem(WHO, JSON.stringify(w));
      input.value = '';
      location.hash = RANK[w.role] >= RANK.submitter ? '#/overview' : '#/models';
    } catch (e) {
      out.replaceChildren(problemBox(e));
    }
  }},
  h('div', {class: 'fieldrow'}, h('label', {for: 'token'}, 'API token'), input,
    h('small', {id: 'token-help', class: 'muted'},
      'A bearer token (st_…). It is kept in this tab\'s session storage only and sent in the Authorization header.')),
  h('div', {class: 'actions'}, h('button', {type: 'submit'}, 'Sign in')), out);
  page('Sign in', form);
  if (token()) main().prepend(h('p', {}, 'You are signed in as ', whoami()?.name || '?', '.'));
}

// ---- overview -------------------------------------------------------------------------------------------------------

async function overviewPage() {
  const {data: o} = await api('GET', '/api/v1/dashboard/overview');
  const st = o.stages || {};
  const jobs = o.jobs || {};
  const card = (n, l, id) => h('div', {class: 'card', id}, h('span', {class: 'n'}, String(n || 0)), h('span', {class: 'l'}, l));
  const running = h('tbody', {});
  const view = page('Overview',
    h('section', {'aria-labelledby': 'h-stages'}, h('h2', {id: 'h-stages'}, 'Stages'),
      h('div', {class: 'cards'}, card((st.PENDING || 0) + (st.READY || 0), 'queued stages', 'c-queued'),
        card(st.RUNNING, 'running stages', 'c-running'), card(st.FAILED, 'failed stages', 'c-failed'),
        card(jobs.QUEUED, 'queued jobs'), card(jobs.RUNNING, 'running jobs'), card(jobs.FAILED, 'failed jobs'),
        card(jobs.SUCCEEDED, 'succeeded jobs'))),
    h('section', {'aria-labelledby': 'h-running'}, h('h2', {id: 'h-running'}, 'Running jobs'),
      o.running.length ? h('table', {id: 'running-jobs'}, h('caption', {}, 'Queued and running jobs, live'),
        h('thead', {}, h('tr', {}, ['Job', 'Model', 'State', 'Progress', 'ETA', 'Submitted by'].map(t =>
          h('th', {scope: 'col'}, t)))), running) : h('p', {class: 'muted'}, 'No job is queued or running.')),
    o.workers ? h('section', {'aria-labelledby': 'h-workers'}, h('h2', {id: 'h-workers'}, 'Workers and leases'),
      o.workers.length ? h('table', {id: 'workers'}, h('caption', {}, 'Leases held on running stages'),
        h('thead', {}, h('tr', {}, ['Worker', 'Job', 'Stage', 'Progress', 'Heartbeat', 'Lease expires'].map(t =>
          h('th', {scope: 'col'}, t)))),
        h('tbody', {}, o.workers.map(w => h('tr', {}, h('td', {class: 'mono'}, w.worker),
          h('td', {}, h('a', {href: '#/jobs/' + w.jobId}, '#' + w.jobId)), h('td', {class: 'mono'}, w.stage),
          h('td', {class: 'num'}, w.total ? `${w.done}/${w.total}` : '—'), h('td', {}, fmtTime(w.heartbeatAt)),
          h('td', {}, fmtTime(w.leaseExpiresAt))))))
        : h('p', {class: 'muted'}, 'No worker holds a lease (idle).')) : null,
    h('section', {'aria-labelledby': 'h-fail'}, h('h2', {id: 'h-fail'}, 'Recent failures'),
      o.recentFailures.length ? h('ul', {id: 'failures'}, o.recentFailures.map(f => h('li', {},
        h('a', {href: '#/jobs/' + f.id}, `job #${f.id}`), ` (${f.model}, ${fmtTime(f.finishedAt)}): `,
        h('span', {class: 'mono'}, f.firstErrorLine || '')))) : h('p', {class: 'muted'}, 'No failed job.')));
  // live progress: one event stream per running job (a token may hold 8; the first 4 are streamed, the rest shown
  // as of the page load)
  for (const [i, j] of o.running.entries()) {
    const bar = h('progress', {max: 1, value: j.stagesTotal ? j.stagesSucceeded / j.stagesTotal : 0,
      'aria-label': `progress of job ${j.id}`});
    const txt = h('span', {}, `${j.stagesSucceeded}/${j.stagesTotal} stages`);
    const state = h('td', {}, stateBadge(j.state));
    const eta = h('td', {}, '—');
    running.append(h('tr', {id: 'run-' + j.id}, h('td', {}, h('a', {href: '#/jobs/' + j.id}, '#' + j.id)),
      h('td', {}, j.model), state, h('td', {}, h('div', {class: 'bar'}, bar, txt)), eta, h('td', {}, j.createdBy)));
    if (i < 4) {
      streamEvents(`/api/v1/jobs/${j.id}/events`, (name, d) => {
        if ((name === 'job' || name === 'end') && d.progress) {
          bar.value = d.progress.fraction;
          txt.textContent = `${d.progress.stagesSucceeded}/${d.progress.stagesTotal} stages`;
          eta.textContent = d.progress.etaSeconds != null ? fmtDuration(d.progress.etaSeconds) : '—';
          state.replaceChildren(stateBadge(d.state));
        }
      });
    }
  }
  return view;
}

// ---- jobs -----------------------------------------------------------------------------------------------------------

async function jobsPage() {
  const body = h('tbody', {});
  const more = h('button', {type: 'button', class: 'secondary', hidden: true}, 'Older jobs');
  let before = null;
  async function load() {
    const {data} = await api('GET', '/api/v1/jobs?limit=50' + (before ? '&before=' + before : ''));
    for (const j of data.items) {
      const p = j.progress || {};
      body.append(h('tr', {}, h('td', {}, h('a', {href: '#/jobs/' + j.id}, '#' + j.id)), h('td', {}, j.model?.name),
        h('td', {}, stateBadge(j.state)), h('td', {class: 'num'}, `${p.stagesSucceeded ?? 0}/${p.stagesTotal ?? 0}`),
        h('td', {}, fmtTime(j.createdAt)), h('td', {}, j.createdBy), h('td', {class: 'mono'}, j.error ? j.error.split('\n')[0] : '')));
    }
    before = data.nextBefore;
    more.hidden = !before;
  }
  more.addEventListener('click', () => guarded(load));
  page('Jobs', h('div', {class: 'actions'}, h('a', {href: '#/jobs/new', class: 'button'}, 'Submit a job')),
    h('table', {id: 'jobs'}, h('caption', {}, 'Newest first'), h('thead', {}, h('tr', {},
      ['Job', 'Model', 'State', 'Stages', 'Created', 'By', 'Error'].map(t => h('th', {scope: 'col'}, t)))), body), more);
  await load();
}

function stageGraph(stages) {
  // levels: longest dependency chain; drawn as columns with edges
  const byName = new Map(stages.map(s => [s.name, s]));
  const level = new Map();
  const lv = s => {
    if (level.has(s.name)) return level.get(s.name);
    level.set(s.name, 0);
    const l = Math.max(-1, ...(s.dependsOn || []).filter(d => byName.has(d)).map(d => lv(byName.get(d)))) + 1;
    level.set(s.name, l);
    return l;
  };
  stages.forEach(lv);
  const cols = [];
  for (const s of stages) (cols[level.get(s.name)] ||= []).push(s);
  const W = 190, H = 44, GX = 50, GY = 10;
  const pos = new Map();
  cols.forEach((c, x) => c.forEach((s, y) => pos.set(s.name, {x: 10 + x * (W + GX), y: 10 + y * (H + GY)})));
  const height = 20 + Math.max(...cols.map(c => c.length)) * (H + GY);
  const width = 20 + cols.length * (W + GX);
  const edges = [], nodes = [];
  for (const s of stages) {
    const p = pos.get(s.name);
    for (const d of s.dependsOn || []) {
      const q = pos.get(d);
      if (!q) continue;
      edges.push(svg('path', {d: `M${q.x + W},${q.y + H / 2} C${q.x + W + GX / 2},${q.y + H / 2} ${p.x - GX / 2},${p.y + H / 2} ${p.x},${p.y + H / 2}`}));
    }
    const dur = s.startedAt ? ((s.finishedAt ? new Date(s.finishedAt) : new Date()) - new Date(s.startedAt)) / 1000 : null;
    const label = s.name.length > 28 ? s.name.slice(0, 27) + '…' : s.name;
    nodes.push(svg('g', {class: 'n-' + s.state, 'data-stage': s.name},
      svg('title', {}, `${s.name}: ${s.state}, attempt ${s.attempts}/${s.maxAttempts}` +
        (s.worker ? `, worker ${s.worker}` : '') + (dur != null ? `, ${fmtDuration(dur)}` : '') +
        (s.error ? `\n${s.error}` : '')),
      svg('rect', {x: p.x, y: p.y, width: W, height: H, rx: 5}),
      svg('text', {x: p.x + 6, y: p.y + 16}, label),
      svg('text', {x: p.x + 6, y: p.y + 34}, `${s.state} · try ${s.attempts}` + (dur != null ? ` · ${fmtDuration(dur)}` : ''))));
  }
  return svg('svg', {width, height, role: 'img', 'aria-label': `stage graph: ${stages.length} stages`}, edges, nodes);
}

async function jobPage(id) {
  const {data: job} = await api('GET', `/api/v1/jobs/${id}`);
  const stages = new Map((job.stages || []).map(s => [s.name, s]));
  const head = h('dl', {class: 'kv', id: 'job-head'});
  const graph = h('div', {class: 'graph', id: 'stage-graph', tabindex: 0, 'aria-label': 'stage graph (scrollable)'});
  const table = h('tbody', {});
  const logs = h('pre', {class: 'logs', id: 'logs', tabindex: 0, 'aria-label': 'job log'});
  const actions = h('div', {class: 'actions'});
  const result = h('div', {id: 'job-result'});
  let current = job;
  let logAfter = 0;

  function renderHead() {
    const p = current.progress || {};
    replace(head, 
      h('dt', {}, 'State'), h('dd', {id: 'job-state'}, stateBadge(current.state)),
      h('dt', {}, 'Model'), h('dd', {}, current.model?.id ? h('a', {href: '#/models/' + current.model.id}, current.model.name) : current.model?.name),
      h('dt', {}, 'Progress'), h('dd', {}, h('div', {class: 'bar'}, h('progress', {max: 1, value: p.fraction || 0,
        'aria-label': 'job progress'}), `${p.stagesSucceeded ?? 0}/${p.stagesTotal ?? 0} stages`,
        p.running && p.running.length ? ` — running: ${p.running.join(', ')}` : '')),
      h('dt', {}, 'ETA'), h('dd', {id: 'job-eta'}, p.etaSeconds != null ? fmtDuration(p.etaSeconds) : '—'),
      h('dt', {}, 'Submitted'), h('dd', {}, `${fmtTime(current.createdAt)} by ${current.createdBy}`),
      h('dt', {}, 'Started / finished'), h('dd', {}, `${fmtTime(current.startedAt)} / ${fmtTime(current.finishedAt)}`),
      current.error ? [h('dt', {}, 'Error'), h('dd', {class: 'mono'}, current.error)] : null);
    actions.replaceChildren(
      h('button', {type: 'button', id: 'cancel', class: 'danger', disabled: !['QUEUED', 'RUNNING'].includes(current.state),
        onclick: () => act('cancel')}, 'Cancel job'),
      h('button', {type: 'button', id: 'retry', class: 'secondary', disabled: !['FAILED', 'CANCELLED'].includes(current.state),
        onclick: () => act('retry')}, 'Retry failed stages'));
    const ids = current.result?.configIds || [];
    result.replaceChildren(...(ids.length ? [h('h2', {}, 'Published configs'), h('p', {},
      current.model?.id ? h('a', {href: `#/models/${current.model.id}/configs`, id: 'to-configs'}, 'Error vs NFE of this model') : null),
      h('ul', {}, ids.map(c => h('li', {}, h('a', {href: '#/configs/' + c}, 'config ' + c))))] : []));
  }

  function renderStages() {
    const list = [...stages.values()];
    graph.replaceChildren(stageGraph(list));
    table.replaceChildren(...list.map(s => {
      const dur = s.startedAt ? ((s.finishedAt ? new Date(s.finishedAt) : new Date()) - new Date(s.startedAt)) / 1000 : null;
      return h('tr', {}, h('td', {class: 'mono'}, s.name), h('td', {}, s.kind), h('td', {}, stateBadge(s.state)),
        h('td', {class: 'num'}, `${s.attempts}/${s.maxAttempts}`), h('td', {class: 'mono'}, s.worker || '—'),
        h('td', {class: 'num'}, s.total ? `${s.done}/${s.total}` : '—'), h('td', {class: 'num'}, fmtDuration(dur)),
        h('td', {}, s.error || s.message || ''));
    }));
  }

  async function pollLogs() {
    const {data} = await api('GET', `/api/v1/jobs/${id}/logs?after=${logAfter}&limit=1000`);
    for (const l of data.lines) {
      logs.append(h('span', {class: l.level}, `${fmtTime(l.ts)} ${l.level} ${l.stage ? '[' + l.stage + '] ' : ''}${l.message}\n`));
    }
    logAfter = data.nextAfter;
    if (data.lines.length) logs.scrollTop = logs.scrollHeight;
  }

  async function act(what) {
    try {
      const {data} = await api('POST', `/api/v1/jobs/${id}/${what}`);
      current = data;
      renderHead();
      say(what === 'cancel' ? `Job ${id} cancelled.` : `Job ${id} queued again.`);
      if (what === 'retry') route();
    } catch (e) {
      if (!(e instanceof ApiError && e.status === 401)) main().prepend(problemBox(e));
    }
  }

  page(`Job #${id}`, head, actions, result,
    h('h2', {}, 'Stage graph'), graph,
    h('h2', {}, 'Stages'), h('table', {id: 'stages'}, h('thead', {}, h('tr', {}, ['Stage', 'Kind', 'State', 'Attempt',
      'Worker', 'Progress', 'Duration', 'Message'].map(t => h('th', {scope: 'col'}, t)))), table),
    h('h2', {}, 'Log'), logs);
  renderHead();
  renderStages();
  await pollLogs();
  if (['QUEUED', 'RUNNING'].includes(current.state)) {
    // live: the job's event stream, with a watchdog that reads the job itself whenever the stream has been quiet for
    // a few seconds (a stream may end or stall; the page must still reach the job's end) and listens again
    const page = pageSeq;
    const alive = () => page === pageSeq;
    const finished = () => !['QUEUED', 'RUNNING'].includes(current.state);
    let lastEvent = Date.now();
    const onEvent = (name, d) => {
      lastEvent = Date.now();
      if (name === 'job' || name === 'end') {
        current = Object.assign({}, current, d);
        renderHead();
      } else if (name === 'stages') {
        for (const st of d.stages || []) stages.set(st.name, st);
        renderStages();
      } else if (name === 'error') {
        main().prepend(problemBox(new ApiError(d.status || 0, d)));
      }
    };
    (async () => {
      while (alive() && !finished()) {
        await streamEvents(`/api/v1/jobs/${id}/events`, onEvent);
        if (!alive() || finished()) break;
        await new Promise(r => setTimeout(r, 1000));
      }
    })();
    (async () => {
      while (alive()) {
        await new Promise(r => setTimeout(r, 1500));
        if (!alive()) break;
        try {
          await pollLogs();
          if (!finished() && Date.now() - lastEvent > 4000) {
            const {data} = await api('GET', `/api/v1/jobs/${id}`);
            if (!alive()) break;
            lastEvent = Date.now();
            current = data;
            for (const st of data.stages || []) stages.set(st.name, st);
            renderHead();
            renderStages();
          }
          if (finished()) { stopStreams(); await pollLogs(); break; }
        } catch { break; }
      }
    })();
  }
}

// ---- job submission ---------------------------------------------------------------------------------------------------

async function submitPage() {
  let models = [];
  try { models = (await api('GET', '/api/v1/models?limit=500')).data.items; } catch (e) { if (e.status === 401) return; }
  const fields = new Map();
  const err = new Map();
  const input = (name, label, attrs = {}, help) => {
    const id = 'f-' + name.replace(/\W/g, '-');
    const el = attrs.tag === 'select' ? h('select', {id, name}, attrs.options) :
      h('input', Object.assign({id, name, type: 'text', 'aria-describedby': id + '-err' + (help ? ' ' + id + '-help' : '')}, attrs));
    if (attrs.tag === 'select') el.setAttribute('aria-describedby', id + '-err');
    const e = h('span', {class: 'field-error', id: id + '-err'});
    fields.set(name, el);
    err.set(name, e);
    return h('div', {class: 'row'}, h('label', {for: id}, label), el, help ? h('small', {class: 'muted', id: id + '-help'}, help) : null, e);
  };
  const group = (name, legend, values) => {
    const boxes = values.map(v => h('label', {}, h('input', {type: 'checkbox', name, value: v}), ' ', v));
    const e = h('span', {class: 'field-error', id: 'f-' + name + '-err'});
    const fs = h('fieldset', {class: 'wide', id: 'f-' + name, 'aria-describedby': 'f-' + name + '-err'}, h('legend', {}, legend), boxes, e);
    fields.set(name, fs);
    err.set(name, e);
    return fs;
  };
  const out = h('div', {id: 'submit-result'});
  const example = h('select', {id: 'example'}, Object.keys(EXAMPLES).map(k => h('option', {value: k}, k)));
  const form = h('form', {class: 'grid', id: 'job-form', novalidate: true},
    input('model', 'Model', {tag: 'select', options: [h('option', {value: ''}, '— choose —'),
      ...models.map(m => h('option', {value: m.name}, m.name))]}),
    input('idempotencyKey', 'Idempotency key (optional)', {}, 'the same key never creates a second job'),
    group('methods', 'Methods', METHODS),
    input('nfe', 'NFE list', {}, 'comma separated, e.g. 5, 6, 8'),
    input('guidance', 'Guidance scales', {}, 'comma separated, e.g. 1, 7.5'),
    group('spacings', 'Spacings (none checked: all four)', SPACINGS),
    input('teacher.steps', 'Teacher steps'), input('teacher.recordEvery', 'Teacher record every'),
    input('teacher.tolerance', 'Teacher tolerance'), input('teacher.checkSeeds', 'Teacher check seeds'),
    input('seeds.train', 'Training seeds'), input('seeds.heldOut', 'Held-out seeds'),
    input('seeds.shardSize', 'Seeds per shard'), input('seeds.fitRows', 'Fit rows'),
    input('batch', 'Batch'),
    h('div', {class: 'actions wide'}, h('button', {type: 'submit', id: 'submit-job'}, 'Submit job')));

  function fill(spec) {
    fields.get('model').value = spec.model || '';
    for (const g of ['methods', 'spacings']) {
      for (const b of fields.get(g).querySelectorAll('input')) b.checked = (spec[g] || []).includes(b.value);
    }
    for (const [k, el] of fields) {
      if (k === 'model' || k === 'methods' || k === 'spacings' || k === 'idempotencyKey') continue;
      const v = k.split('.').reduce((o, p) => (o == null ? undefined : o[p]), spec);
      el.value = v === undefined ? '' : Array.isArray(v) ? v.join(', ') : String(v);
    }
  }

  function collect() {
    const spec = {};
    const set = (path, v) => {
      const parts = path.split('.');
      let o = spec;
      for (const p of parts.slice(0, -1)) o = (o[p] ||= {});
      o[parts.at(-1)] = v;
    };
    const num = s => (s.trim() !== '' && isFinite(Number(s)) ? Number(s) : s.trim());
    if (fields.get('model').value) spec.model = fields.get('model').value;
    spec.methods = [...fields.get('methods').querySelectorAll('input:checked')].map(b => b.value);
    const sp = [...fields.get('spacings').querySelectorAll('input:checked')].map(b => b.value);
    if (sp.length) spec.spacings = sp;
    for (const k of ['nfe', 'guidance']) {
      const v = fields.get(k).value.trim();
      if (v) set(k, v.split(/[,\s]+/).filter(Boolean).map(num));
    }
    for (const k of ['teacher.steps', 'teacher.recordEvery', 'teacher.tolerance', 'teacher.checkSeeds', 'seeds.train',
      'seeds.heldOut', 'seeds.shardSize', 'seeds.fitRows', 'batch']) {
      const v = fields.get(k).value.trim();
      if (v) set(k, num(v));
    }
    return spec;
  }

  function fieldFor(path) {
    let p = String(path || '').replace(/^spec\./, '');
    while (p) {
      const bare = p.replace(/\[\d+\]/g, '');
      if (fields.has(bare)) return bare;
      const cut = Math.max(p.lastIndexOf('.'), p.lastIndexOf('['));
      if (cut <= 0) break;
      p = p.slice(0, cut);
    }
    return null;
  }

  form.addEventListener('submit', async ev => {
    ev.preventDefault();
    out.replaceChildren();
    for (const [k, e] of err) { e.textContent = ''; fields.get(k).removeAttribute('aria-invalid'); }
    const key = fields.get('idempotencyKey').value.trim();
    try {
      const {data, status} = await api('POST', '/api/v1/jobs', collect(), key ? {'Idempotency-Key': key} : {});
      flash = [status === 202 ? `Submitted job ${data.id}.` : `Job ${data.id} was submitted earlier with this key.`, 'ok'];
      location.hash = '#/jobs/' + data.id;
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) return;
      const shown = new Set();
      let first = null;
      for (const fe of (e.problem && e.problem.errors) || []) {
        const f = fieldFor(fe.field);
        if (!f) continue;
        shown.add(fe);
        const el = err.get(f);
        el.textContent = (el.textContent ? el.textContent + ' ' : '') + `${fe.field}: ${fe.message}`;
        fields.get(f).setAttribute('aria-invalid', 'true');
        first ||= fields.get(f);
      }
      out.replaceChildren(problemBox(e, shown));
      (first && (first.matches('fieldset') ? first.querySelector('input') : first) || out).focus();
    }
  });
  page('Submit a tuning job',
    h('div', {class: 'actions'}, h('label', {for: 'example'}, 'Example'), example,
      h('button', {type: 'button', class: 'secondary', id: 'load-example', onclick: () => fill(EXAMPLES[example.value])},
        'Load example')),
    h('p', {class: 'muted'}, 'Fields follow tuning-jobs/README.md; empty fields take the server\'s defaults.'), form, out);
  fill(EXAMPLES['gmm-quick']);
}

// ---- models ---------------------------------------------------------------------------------------------------------

async function modelsPage() {
  const {data} = await api('GET', '/api/v1/models?limit=500');
  const list = h('table', {id: 'models'}, h('caption', {}, `${data.items.length} registered models`),
    h('thead', {}, h('tr', {}, ['Name', 'Kind', 'Preset', 'Predicts', 'Classes', 'Hash', 'Registered', 'Configs']
      .map(t => h('th', {scope: 'col'}, t)))),
    h('tbody', {}, data.items.map(m => h('tr', {}, h('td', {}, h('a', {href: '#/models/' + m.id}, m.name)),
      h('td', {}, m.kind), h('td', {}, m.preset || '—'), h('td', {}, m.predictionType), h('td', {class: 'num'}, m.numClasses),
      h('td', {class: 'mono'}, (m.contentHash || '').slice(0, 12)), h('td', {}, fmtTime(m.createdAt)),
      h('td', {}, h('a', {href: `#/models/${m.id}/configs`}, 'configs'))))));
  const parts = [list];
  if (can('submitter')) parts.push(registerForm(), uploadForm());
  page('Models', parts);
}

function registerForm() {
  const out = h('div', {id: 'register-result'});
  const name = h('input', {id: 'r-name', type: 'text', required: true});
  const desc = h('input', {id: 'r-desc', type: 'text'});
  const preset = h('select', {id: 'r-preset'}, ['gmm-sd-d32', 'fmnist-empirical', 'fmnist-unet', 'custom spec (JSON below)']
    .map(p => h('option', {value: p}, p)));
  const spec = h('textarea', {id: 'r-spec', rows: 5, placeholder: '{"schedule": {...}, "model": {...}}'});
  const anon = h('input', {id: 'r-anon', type: 'checkbox'});
  return h('section', {'aria-labelledby': 'h-register'}, h('h2', {id: 'h-register'}, 'Register a preset or spec'),
    h('form', {class: 'grid', id: 'register-form', onsubmit: async ev => {
      ev.preventDefault();
      out.replaceChildren();
      let specJson;
      try {
        specJson = preset.selectedIndex === 3 ? JSON.parse(spec.value) : {preset: preset.value};
      } catch (e) {
        out.replaceChildren(problemBox(new ApiError(400, {title: 'Bad Request', detail: 'spec: not JSON: ' + e.message})));
        return;
      }
      const body = {name: name.value, spec: specJson};
      if (desc.value) body.description = desc.value;
      if (anon.checked) body.anonymousRead = true;
      try {
        const {data} = await api('POST', '/api/v1/models', body);
        flash = [`Registered model ${data.name}.`, 'ok'];
        route();
      } catch (e) { if (!(e instanceof ApiError && e.status === 401)) out.replaceChildren(problemBox(e)); }
    }},
    h('div', {class: 'row'}, h('label', {for: 'r-name'}, 'Name'), name),
    h('div', {class: 'row'}, h('label', {for: 'r-desc'}, 'Description'), desc),
    h('div', {class: 'row'}, h('label', {for: 'r-preset'}, 'Preset'), preset),
    h('div', {class: 'row'}, h('label', {for: 'r-anon'}, h('span', {}, 'Anonymous read')), anon),
    h('div', {class: 'row wide'}, h('label', {for: 'r-spec'}, 'Model spec (JSON, for a custom spec)'), spec),
    h('div', {class: 'actions wide'}, h('button', {type: 'submit', id: 'register'}, 'Register'))), out);
}

function uploadForm() {
  const out = h('div', {id: 'upload-result'});
  const f = (id, label, attrs = {}) => h('div', {class: 'row'}, h('label', {for: id}, label),
    h('input', Object.assign({id, type: 'text'}, attrs)));
  const bar = h('progress', {id: 'upload-progress', max: 1, value: 0, 'aria-label': 'upload progress'});
  const pct = h('span', {id: 'upload-pct'}, '');
  const form = h('form', {class: 'grid', id: 'upload-form'},
    h('div', {class: 'row wide'}, h('label', {for: 'u-file'}, 'TorchScript file (torch.jit.save)'),
      h('input', {id: 'u-file', type: 'file', accept: '.pt,.pth,.ts,application/octet-stream', required: true})),
    f('u-name', 'Name'), f('u-schedule', 'Schedule', {value: 'linear'}), f('u-shape', 'Input shape', {value: '1,28,28'}),
    f('u-pred', 'Prediction type', {value: 'noise'}), f('u-classes', 'Classes (0 = unconditional)', {value: '0'}),
    h('div', {class: 'actions wide'}, h('button', {type: 'submit', id: 'upload'}, 'Upload'), h('div', {class: 'bar'}, bar, pct)));
  form.addEventListener('submit', ev => {
    ev.preventDefault();
    out.replaceChildren();
    const file = form.querySelector('#u-file').files[0];
    if (!file) { out.replaceChildren(problemBox(new ApiError(400, {title: 'Bad Request', detail: 'choose a file'}))); return; }
    const q = new URLSearchParams({name: form.querySelector('#u-name').value, schedule: form.querySelector('#u-schedule').value,
      inputShape: form.querySelector('#u-shape').value, predictionType: form.querySelector('#u-pred').value,
      numClasses: form.querySelector('#u-classes').value});
    const xhr = new XMLHttpRequest();
    xhr.open('POST', '/api/v1/models/torchscript?' + q);
    xhr.setRequestHeader('Authorization', 'Bearer ' + token());
    xhr.setRequestHeader('Content-Type', 'application/octet-stream');
    xhr.upload.addEventListener('progress', e => {
      if (e.lengthComputable) { bar.value = e.loaded / e.total; pct.textContent = Math.round(100 * e.loaded / e.total) + ' %'; }
    });
    xhr.addEventListener('load', () => {
      let d = null;
      try { d = JSON.parse(xhr.responseText); } catch { d = {detail: xhr.responseText}; }
      if (xhr.status === 401) { signOut('Your session was refused (401). Sign in again.'); return; }
      if (xhr.status >= 400) { out.replaceChildren(problemBox(new ApiError(xhr.status, d))); return; }
      bar.value = 1;
      out.replaceChildren(h('p', {class: 'ok'}, `Uploaded and registered ${d.name} (sha256 ${d.artifact?.sha256 || ''}).`));
    });
    xhr.addEventListener('error', () => out.replaceChildren(problemBox(new ApiError(0, {title: 'Network error', detail: 'the upload did not complete'}))));
    xhr.send(file);
  });
  return h('section', {'aria-labelledby': 'h-upload'}, h('h2', {id: 'h-upload'}, 'Upload a TorchScript model'), form, out);
}

async function modelPage(ref) {
  const {data: m} = await api('GET', '/api/v1/models/' + encodeURIComponent(ref));
  let usage = null;
  try { usage = (await api('GET', `/api/v1/dashboard/models/${m.id}/configs`)).data; } catch (e) { if (e.status === 401) return; }
  const out = h('div', {id: 'delete-result'});
  page(`Model ${m.name}`,
    h('dl', {class: 'kv', id: 'model-detail'},
      [['Id', m.id], ['Name', m.name], ['Description', m.description || '—'], ['Kind', m.kind], ['Preset', m.preset || '—'],
        ['Predicts', m.predictionType], ['Input shape', (m.inputShape || []).join(' × ')], ['Classes', m.numClasses],
        ['dtype', m.dtype], ['Content hash', m.contentHash], ['Anonymous read', m.anonymousRead ? 'yes' : 'no'],
        ['Artifact', m.artifact ? `sha256 ${m.artifact.sha256}, ${m.artifact.sizeBytes} bytes` : '—'],
        ['Registered', `${fmtTime(m.createdAt)} by ${m.createdBy || '?'}`],
        ['Usage', usage ? `${usage.versions} config versions, ${usage.configs.length} current` : '—']]
        .flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, String(v))])),
    h('p', {}, h('a', {href: `#/models/${m.id}/configs`, id: 'to-configs'}, 'Configs: error vs NFE')),
    h('h2', {}, 'Schedule'), h('pre', {tabindex: 0, 'aria-label': 'schedule'}, JSON.stringify(m.schedule, null, 2)),
    m.spec ? [h('h2', {}, 'Spec'), h('pre', {tabindex: 0, 'aria-label': 'spec'}, JSON.stringify(m.spec, null, 2).slice(0, 20000))] : null,
    can('admin') ? h('div', {class: 'actions'}, h('button', {type: 'button', class: 'danger', id: 'delete-model', onclick: async () => {
      out.replaceChildren();
      try {
        await api('DELETE', '/api/v1/models/' + m.id);
        flash = [`Deleted model ${m.name}.`, 'ok'];
        location.hash = '#/models';
      } catch (e) { if (!(e instanceof ApiError && e.status === 401)) out.replaceChildren(problemBox(e)); }
    }}, 'Delete model')) : null, out);
}

// ---- configs: error vs NFE ------------------------------------------------------------------------------------------

function plotSize(el) {
  return {width: Math.max(480, Math.min(1100, (el.clientWidth || 900) - 10)), height: 380};
}

/** Error-vs-NFE plot of the current configs at one guidance: per method the best config at each NFE, ± s.e. */
function errorPlot(container, configs, onDrawn) {
  const nfes = [...new Set(configs.map(c => c.nfe))].sort((a, b) => a - b);
  const methods = [...new Set(configs.map(c => c.method))].sort((a, b) => (a === 'baseline') - (b === 'baseline') || a.localeCompare(b));
  const best = new Map();
  for (const c of configs) {
    if (c.heldOutMse == null || !(c.latest || c.recommended)) continue;
    const k = c.method + '|' + c.nfe;
    const b = best.get(k);
    if (!b || c.heldOutMse < b.heldOutMse) best.set(k, c);
  }
  const cell = (m, n) => best.get(m + '|' + n);
  const se = c => Number(c.metrics?.heldOutStdErr) || 0;
  const data = [nfes, ...methods.map(m => nfes.map(n => cell(m, n)?.heldOutMse ?? null))];
  const series = [{label: 'NFE'}, ...methods.map((m, i) => ({
    label: m === 'baseline' ? 'best untuned baseline' : m,
    stroke: m === 'baseline' ? '#1b1f24' : PALETTE[i % PALETTE.length], width: m === 'baseline' ? 2.5 : 1.6,
    dash: m === 'baseline' ? [6, 4] : undefined, points: {show: true, size: 7}, spanGaps: true,
    value: (u, v) => (v == null ? '—' : v.toExponential(3)),
  }))];
  const recommended = configs.filter(c => c.recommended);
  // the y range holds every point and error bar (a lower bar below zero is cut at a hundredth of its mean)
  let yLo = Infinity, yHi = 0;
  for (const c of best.values()) {
    yLo = Math.min(yLo, Math.max(c.heldOutMse - se(c), c.heldOutMse / 100));
    yHi = Math.max(yHi, c.heldOutMse + se(c));
  }
  if (!(yHi > 0)) { yLo = 1e-6; yHi = 1; }
  const draw = u => {
    const ctx = u.ctx;
    ctx.save();
    ctx.lineWidth = 1.2 * devicePixelRatio;
    methods.forEach((m, si) => {
      if (!u.series[si + 1].show) return;
      ctx.strokeStyle = u.series[si + 1].stroke();
      for (const n of nfes) {
        const c = cell(m, n);
        if (!c || !se(c)) continue;
        const x = u.valToPos(n, 'x', true);
        const lo = Math.max(c.heldOutMse - se(c), c.heldOutMse / 100);
        const y0 = u.valToPos(lo, 'y', true), y1 = u.valToPos(c.heldOutMse + se(c), 'y', true);
        ctx.beginPath();
        ctx.moveTo(x, y0); ctx.lineTo(x, y1);
        ctx.moveTo(x - 4 * devicePixelRatio, y0); ctx.lineTo(x + 4 * devicePixelRatio, y0);
        ctx.moveTo(x - 4 * devicePixelRatio, y1); ctx.lineTo(x + 4 * devicePixelRatio, y1);
        ctx.stroke();
      }
    });
    ctx.strokeStyle = '#17662f';
    ctx.lineWidth = 2.5 * devicePixelRatio;
    for (const c of recommended) {
      if (c.heldOutMse == null) continue;
      const x = u.valToPos(c.nfe, 'x', true), y = u.valToPos(c.heldOutMse, 'y', true);
      ctx.beginPath();
      ctx.arc(x, y, 8 * devicePixelRatio, 0, 2 * Math.PI);
      ctx.stroke();
    }
    ctx.restore();
  };
  let first = true;
  const opts = Object.assign(plotSize(container), {
    title: 'Held-out MSE vs NFE (± s.e.; ring = recommended)',
    scales: {x: {time: false, range: (u, mn, mx) => [mn - 0.5, mx + 0.5]},
      y: {distr: 3, log: 10, range: () => uPlot.rangeLog(yLo, yHi, 10, true)}},
    axes: [{label: 'NFE (model evaluations)', stroke: '#1b1f24', incrs: [1, 2, 5, 10, 20],
      values: (u, vals) => vals.map(v => (Number.isInteger(v) ? String(v) : ''))}, {label: 'held-out MSE vs teacher (log)', stroke: '#1b1f24',
      size: 70, values: (u, vals) => vals.map(v => (v == null ? '' : v.toExponential(0)))}],
    series,
    hooks: {draw: [u => { draw(u); if (first) { first = false; onDrawn && onDrawn(); } }]},
  });
  container.replaceChildren();
  const plot = new uPlot(opts, data, container);
  const canvas = container.querySelector('canvas');
  if (canvas) {
    canvas.setAttribute('role', 'img');
    canvas.setAttribute('aria-label', `held-out MSE against NFE for ${methods.length} methods; the values are in the table below`);
  }
  return plot;
}

function verdict(v) { return v ? h('span', {class: 'verdict-' + v}, v.toLowerCase().replace(/_/g, ' ')) : '—'; }

async function configsPage(ref) {
  const t0 = performance.now();
  const {data} = await api('GET', `/api/v1/dashboard/models/${encodeURIComponent(ref)}/configs`);
  const tData = performance.now();
  const guidances = data.guidances.length ? data.guidances : [1];
  const sel = h('select', {id: 'guidance'}, guidances.map(g => h('option', {value: String(g)}, String(g))));
  const plotBox = h('div', {class: 'plot', id: 'error-plot'});
  const body = h('tbody', {});
  const note = h('p', {class: 'plotnote', id: 'plot-timing'});
  const render = () => {
    const g = Number(sel.value);
    const cs = data.configs.filter(c => c.guidance === g);
    const tStart = performance.now();
    if (!cs.length) {
      plotBox.replaceChildren(h('p', {class: 'muted'}, 'No config at this guidance.'));
    } else {
      errorPlot(plotBox, cs, () => {
        const ms = performance.now() - t0;
        window.solvertunePlot = {configs: data.configs.length, shown: cs.length, fetchMs: tData - t0,
          drawMs: performance.now() - tStart, totalMs: ms};
        document.body.dataset.plotDrawn = String(Math.round(ms));
        note.textContent = `${cs.length} configs at guidance ${g}; drawn ${Math.round(ms)} ms after the page was opened.`;
      });
    }
    const rows = [...cs].sort((a, b) => a.nfe - b.nfe || (a.heldOutMse ?? Infinity) - (b.heldOutMse ?? Infinity));
    const frag = document.createDocumentFragment();
    for (const c of rows) {
      const m = c.metrics || {};
      frag.append(h('tr', {}, h('td', {}, h('a', {href: '#/configs/' + c.id}, String(c.id))), h('td', {}, c.method),
        h('td', {}, c.solver), h('td', {class: 'num'}, c.nfe), h('td', {}, c.spacing),
        h('td', {class: 'num'}, `${fmtNum(c.heldOutMse)} ± ${fmtNum(m.heldOutStdErr, 2)}`),
        h('td', {class: 'num'}, m.heldOutMedian != null ? fmtNum(m.heldOutMedian) : '—'),
        h('td', {class: 'num'}, m.heldOutP99 != null ? fmtNum(m.heldOutP99) : '—'),
        h('td', {}, verdict(m.vsBase), m.ratioToBase != null ? ` (×${fmtNum(m.ratioToBase, 3)})` : ''),
        h('td', {}, verdict(m.vsBaseline), m.ratioToBaseline != null ? ` (×${fmtNum(m.ratioToBaseline, 3)})` : ''),
        h('td', {}, c.recommended ? h('span', {class: 'badge badge-recommended'}, 'recommended') : null,
          c.stable ? h('span', {class: 'badge badge-stable'}, 'stable') : null,
          c.latest ? h('span', {class: 'badge badge-latest'}, 'latest') : null)));
    }
    body.replaceChildren(frag);
  };
  sel.addEventListener('change', render);
  let grids = null;
  try {
    const {data: model} = await api('GET', '/api/v1/models/' + data.modelId);
    const shape = model.inputShape || [];
    if (shape.length === 3 && (shape[0] === 1 || shape[0] === 3)) grids = sampleGridSection(data, sel);
  } catch (e) { if (e.status === 401) return; }
  page(`Configs of ${data.model}`,
    h('div', {class: 'actions'}, h('label', {for: 'guidance'}, 'Guidance'), sel,
      h('a', {href: '#/models/' + data.modelId}, 'model details')),
    data.truncated ? h('p', {class: 'problem'}, 'More configs than the server lists at once; showing the first ones.') : null,
    plotBox, note,
    h('table', {id: 'configs'}, h('caption', {}, `${data.configs.length} current configs (${data.versions} versions in all); MSE per seed vs the teacher on held-out seeds`),
      h('thead', {}, h('tr', {}, ['Id', 'Method', 'Solver', 'NFE', 'Spacing', 'Held-out MSE ± s.e.', 'Median', 'p99',
        'vs base', 'vs best baseline', 'Aliases'].map(t => h('th', {scope: 'col'}, t)))), body), grids);
  render();
}

/** The figure of a grid view ({grid, href}): the PNG fetched with the token, its columns linked to their configs. */
async function gridFigure(g) {
  const res = await fetch(g.href, {headers: {Authorization: 'Bearer ' + token()}, cache: 'no-store'});
  if (!res.ok) { await handle(res); return null; }
  const url = URL.createObjectURL(await res.blob());
  const cols = g.grid.columns;
  const img = h('img', {src: url, class: 'grid-img', alt: `sample grid at NFE ${g.grid.nfe}, guidance ${g.grid.guidance}: ` +
    `${cols.length} columns (${cols.join('; ')}), one row per seed (${g.grid.seeds.join(', ')})`});
  img.addEventListener('load', () => { img.width = img.naturalWidth * 3; img.dataset.loaded = 'yes'; });
  return h('figure', {},
    img,
    h('figcaption', {}, `NFE ${g.grid.nfe}, guidance ${g.grid.guidance}; rows: held-out seeds ${g.grid.seeds[0]}–${g.grid.seeds.at(-1)}; `,
      h('span', {class: 'grid-source'}, g.grid.source === 'pipeline' ? `stored by the pipeline of job ${g.grid.jobId}` : 'rendered on request'),
      '; columns, left to right:',
      h('ol', {}, cols.map((c, i) => h('li', {}, g.grid.columnConfigIds[i] ? h('a', {href: '#/configs/' + g.grid.columnConfigIds[i]}, c) : c)))));
}

/**
 * Teacher | best untuned baseline | tuned configs on the same held-out seeds: the grid the publishing job's pipeline
 * stored, or (configs of no grid stage) rendered by the service on request.
 */
function sampleGridSection(data, guidanceSel) {
  const nfes = [...new Set(data.configs.map(c => c.nfe))].sort((a, b) => a - b);
  const nfeSel = h('select', {id: 'grid-nfe'}, nfes.map(n => h('option', {value: String(n)}, String(n))));
  const out = h('div', {id: 'sample-grid'});
  const go = h('button', {type: 'button', id: 'show-grid', onclick: async () => {
    go.disabled = true;
    out.replaceChildren(h('p', {class: 'muted'}, 'Loading the grid (sampled on the same seeds if no job stored one)…'));
    try {
      const {data: g} = await api('GET', `/api/v1/dashboard/models/${data.modelId}/sample-grid?nfe=${nfeSel.value}&guidance=${guidanceSel.value}`);
      const fig = await gridFigure(g);
      if (fig) out.replaceChildren(fig);
    } catch (e) {
      if (!(e instanceof ApiError && e.status === 401)) out.replaceChildren(problemBox(e));
    } finally { go.disabled = false; }
  }}, 'Show sample grid');
  return h('section', {'aria-labelledby': 'h-grid'}, h('h2', {id: 'h-grid'}, 'Sample grid'),
    h('div', {class: 'actions'}, h('label', {for: 'grid-nfe'}, 'NFE'), nfeSel, go,
      h('span', {class: 'muted'}, 'at the guidance chosen above')), out);
}

/** A config's sample grid: the one its publishing job stored (the config is a column), else the model's current one. */
function configGridSection(c) {
  const out = h('div', {id: 'config-grid'});
  const go = h('button', {type: 'button', id: 'show-config-grid', onclick: async () => {
    go.disabled = true;
    try {
      const {data: g} = await api('GET', `/api/v1/dashboard/configs/${c.id}/sample-grid`);
      out.replaceChildren(await gridFigure(g));
    } catch (e) {
      if (!(e instanceof ApiError && e.status === 401)) out.replaceChildren(problemBox(e));
    } finally { go.disabled = false; }
  }}, 'Show sample grid');
  return h('section', {'aria-labelledby': 'h-config-grid'}, h('h2', {id: 'h-config-grid'}, 'Sample grid'),
    h('div', {class: 'actions'}, go), out);
}

async function download(id, format, out) {
  const res = await fetch(`/api/v1/configs/${id}/export/${encodeURIComponent(format)}`,
    {headers: {Authorization: 'Bearer ' + token()}, cache: 'no-store'});
  if (!res.ok) { await handle(res); return; }
  const cd = res.headers.get('Content-Disposition') || '';
  const name = (cd.match(/filename="([^"]+)"/) || [])[1] || `config-${id}-${format}`;
  const blob = await res.blob();
  const url = URL.createObjectURL(blob);
  const a = h('a', {href: url, download: name, hidden: true});
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
  out.replaceChildren(h('p', {class: 'ok', id: 'download-done'}, `Downloaded ${name} (${blob.size} bytes).`));
}

function fitReportPlot(container, fit) {
  const n = fit.residuals.length;
  const xs = Array.from({length: n}, (_, i) => i + 1);
  const pos = a => a.map(v => (v > 0 ? v : null));
  const opts = Object.assign(plotSize(container), {
    title: 'Fit report: residual per step before and after fitting',
    scales: {x: {time: false}, y: {distr: 3}},
    axes: [{label: 'step', stroke: '#1b1f24'}, {label: 'residual (log)', stroke: '#1b1f24', size: 70,
      values: (u, vals) => vals.map(v => (v == null ? '' : v.toExponential(0)))}],
    series: [{label: 'step'}, {label: 'before (base solver)', stroke: '#b2182b', points: {show: true}},
      {label: 'after (fitted)', stroke: '#0b5cad', points: {show: true}}],
  });
  container.replaceChildren();
  new uPlot(opts, [xs, pos(fit.baseResiduals || []), pos(fit.residuals)], container);
  container.querySelector('canvas')?.setAttribute('role', 'img');
  container.querySelector('canvas')?.setAttribute('aria-label', 'fit residuals per step, before and after');
}

/** Reward per training iteration of a learned solver (provenance.settings.rewardCurve: {iteration, nfe, reward, ratioToNeutral}). */
function trainingCurvePlot(container, curve) {
  const pts = [...curve].sort((a, b) => a.iteration - b.iteration);
  const opts = Object.assign(plotSize(container), {
    title: 'Training curve: reward per iteration (reward = minus the MSE to the teacher)',
    scales: {x: {time: false}, y: {}, r: {}},
    axes: [{label: 'iteration', stroke: '#1b1f24'}, {label: 'reward', stroke: '#1b1f24', size: 70,
      values: (u, vals) => vals.map(v => (v == null ? '' : v.toPrecision(2)))},
    {scale: 'r', side: 1, label: 'MSE ratio to the neutral table', stroke: '#b2182b', grid: {show: false}, size: 60}],
    series: [{label: 'iteration'}, {label: 'reward', stroke: '#0b5cad', points: {show: pts.length < 60}},
      {label: 'MSE ÷ neutral (DDIM)', stroke: '#b2182b', scale: 'r', dash: [5, 4]}],
  });
  container.replaceChildren();
  new uPlot(opts, [pts.map(p => p.iteration), pts.map(p => p.reward), pts.map(p => p.ratioToNeutral ?? null)], container);
  container.querySelector('canvas')?.setAttribute('role', 'img');
  container.querySelector('canvas')?.setAttribute('aria-label', `training reward over ${pts.length} iterations`);
}

async function configPage(id) {
  const {data: c} = await api('GET', '/api/v1/configs/' + id);
  let exportsList = null;
  let exportsError = null;
  try { exportsList = (await api('GET', `/api/v1/configs/${id}/exports`)).data; } catch (e) {
    if (e.status === 401) return;
    exportsError = e;
  }
  const out = h('div', {id: 'config-actions-result'});
  const m = c.metrics || {};
  const formats = (exportsList?.formats || exportsList?.exports || []);
  const fit = c.values?.coefficientSet?.fit;
  const fitBox = h('div', {class: 'plot', id: 'fit-plot'});
  const curve = c.values?.coefficientSet?.provenance?.settings?.rewardCurve;
  const curveBox = h('div', {class: 'plot', id: 'training-curve'});
  let gridBox = null;
  try {
    const {data: model} = await api('GET', '/api/v1/models/' + c.model?.id);
    const shape = model.inputShape || [];
    if (shape.length === 3 && (shape[0] === 1 || shape[0] === 3)) gridBox = configGridSection(c);
  } catch (e) { if (e.status === 401) return; }
  page(`Config ${c.id}: ${c.method} @ NFE ${c.nfe}`,
    h('dl', {class: 'kv', id: 'config-detail'}, [['Model', c.model?.name], ['Method', c.method], ['Solver', c.solver],
      ['Options', JSON.stringify(c.solverOptions || {})], ['NFE', c.nfe], ['Guidance', c.guidance], ['Spacing', c.spacing],
      ['t range', `${c.tStart} → ${c.tEnd}`], ['Version', c.version], ['Key', c.key], ['Job', c.jobId],
      ['Held-out MSE', `${fmtNum(m.heldOutMse ?? c.heldOutMse)} ± ${fmtNum(m.heldOutStdErr, 2)} (${m.heldOutSeeds ?? '?'} seeds)`]]
      .flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, String(v ?? '—'))])),
    h('h2', {}, 'Exports'), exportsError ? problemBox(exportsError) : null,
    h('div', {class: 'actions', id: 'exports'}, formats.filter(f => f.supported).map(f =>
      h('button', {type: 'button', 'data-format': f.format, title: f.consumer || null,
        onclick: () => download(c.id, f.format, out).catch(e => { if (e.status !== 401) out.replaceChildren(problemBox(e)); })},
      `Download ${f.format}`))),
    formats.some(f => !f.supported) ? h('details', {id: 'refused-exports'}, h('summary', {},
      `Not offered for this config: ${formats.filter(f => !f.supported).map(f => f.format).join(', ')}`),
      h('ul', {}, formats.filter(f => !f.supported).map(f => h('li', {}, h('strong', {}, f.format), ': ', f.reason || '')))) : null,
    can('admin') ? h('div', {class: 'actions'}, h('button', {type: 'button', id: 'promote', onclick: async () => {
      try {
        const {data} = await api('PUT', `/api/v1/configs/${c.id}/stable`);
        out.replaceChildren(h('p', {class: 'ok', id: 'promoted'}, `stable now points at config ${data.configId} (moved by ${data.movedBy}).`));
      } catch (e) { if (e.status !== 401) out.replaceChildren(problemBox(e)); }
    }}, 'Promote to stable')) : null,
    out,
    gridBox,
    h('h2', {}, 'Metrics'), h('table', {id: 'metrics'}, h('tbody', {}, Object.entries(m).map(([k, v]) =>
      h('tr', {}, h('th', {scope: 'row'}, k), h('td', {class: typeof v === 'number' ? 'num' : ''}, typeof v === 'number' ? fmtNum(v, 6) : JSON.stringify(v)))))),
    Array.isArray(curve) && curve.length ? [h('h2', {}, 'Training curve'), curveBox] : null,
    fit && fit.residuals ? [h('h2', {}, 'Fit report'), fitBox, fit.warnings?.length ? h('ul', {}, fit.warnings.map(w => h('li', {}, w))) : null] : null,
    h('h2', {}, 'Values'), h('pre', {id: 'values', tabindex: 0, 'aria-label': 'values'}, truncate(JSON.stringify(c.values, null, 1), 20000)),
    h('h2', {}, 'Provenance'), h('pre', {id: 'provenance', tabindex: 0, 'aria-label': 'provenance'}, JSON.stringify(c.provenance, null, 2)));
  if (fit && fit.residuals && fit.residuals.length) fitReportPlot(fitBox, fit);
  if (Array.isArray(curve) && curve.length) trainingCurvePlot(curveBox, curve);
}

function truncate(s, n) { return s.length > n ? s.slice(0, n) + `\n… (${s.length - n} more characters; download the json export)` : s; }

// ---- tokens ---------------------------------------------------------------------------------------------------------

async function tokensPage() {
  const {data} = await api('GET', '/api/v1/tokens');
  const out = h('div', {id: 'token-result'});
  const name = h('input', {id: 't-name', type: 'text', required: true});
  const role = h('select', {id: 't-role'}, ['reader', 'submitter', 'admin'].map(r => h('option', {value: r}, r)));
  page('Tokens',
    h('form', {class: 'grid', id: 'token-form', onsubmit: async ev => {
      ev.preventDefault();
      try {
        const {data: t} = await api('POST', '/api/v1/tokens', {name: name.value, role: role.value});
        await tokensPage();
        const o = document.getElementById('token-result');
        o.replaceChildren(h('div', {class: 'ok', role: 'alert'}, h('p', {}, `Token '${t.info.name}' (${t.info.role}) created. Copy it now: it is not shown again.`),
          h('code', {class: 'token-once', id: 'new-token'}, t.token)));
      } catch (e) { if (e.status !== 401) out.replaceChildren(problemBox(e)); }
    }}, h('div', {class: 'row'}, h('label', {for: 't-name'}, 'Name'), name),
    h('div', {class: 'row'}, h('label', {for: 't-role'}, 'Role'), role),
    h('div', {class: 'actions wide'}, h('button', {type: 'submit', id: 'create-token'}, 'Create token'))), out,
    h('table', {id: 'tokens'}, h('caption', {}, 'Tokens (values are never shown again)'), h('thead', {}, h('tr', {},
      ['Id', 'Name', 'Role', 'Created', 'Revoked', ''].map(t => h('th', {scope: 'col'}, t)))),
    h('tbody', {}, data.map(t => h('tr', {'data-token': t.id}, h('td', {class: 'num'}, t.id), h('td', {}, t.name),
      h('td', {}, t.role), h('td', {}, fmtTime(t.createdAt)), h('td', {}, t.revokedAt ? fmtTime(t.revokedAt) : '—'),
      h('td', {}, t.revokedAt ? null : h('button', {type: 'button', class: 'danger', 'aria-label': `Revoke token ${t.name}`,
        'data-revoke': t.id, onclick: async () => {
          try {
            await api('DELETE', '/api/v1/tokens/' + t.id);
            say(`Revoked token ${t.name}.`);
            if (document.getElementById('tokens')) await tokensPage();
          } catch (e) { if (e.status !== 401) out.replaceChildren(problemBox(e)); }
        }}, 'Revoke')))))));
}

// ---- start ----------------------------------------------------------------------------------------------------------

window.addEventListener('hashchange', route);
if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', route);
else route();
