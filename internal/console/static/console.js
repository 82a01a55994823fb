// wedge console: plain JavaScript, no framework, no inline script (the
// page's CSP forbids it). The admin token is sent once, to sign in; every
// other call rides on the HTTP-only session cookie, and every call that
// changes something carries the X-Wedge-Console header (the CSRF check).
'use strict';

const $ = (sel, root = document) => root.querySelector(sel);
const state = { view: '', fn: '', logAbort: null, timer: 0, kvCursor: '', deadQueue: '', paused: false, session: null };

// ---- small helpers -------------------------------------------------------

class APIError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

// api calls the admin API with the session cookie. opts: body, type
// (Content-Type), raw (return the Response).
async function api(method, path, opts = {}) {
  const headers = {};
  if (method !== 'GET' && method !== 'HEAD') headers['X-Wedge-Console'] = '1';
  if (opts.type) headers['Content-Type'] = opts.type;
  const res = await fetch(path, { method, headers, body: opts.body, credentials: 'same-origin', cache: 'no-store', signal: opts.signal });
  if (!res.ok) {
    let msg = res.statusText;
    try { const j = await res.json(); msg = j.error || msg; } catch (_) { /* not JSON */ }
    if (res.status === 401 && path !== '/console/session') signedOut('Your session ended: sign in again.');
    throw new APIError(res.status, msg);
  }
  if (opts.raw) return res;
  return res.json();
}

// pick reads the first of several field names present (the admin API's
// wire names may be renamed: keep the old and the new).
function pick(o, ...names) {
  for (const n of names) if (o && o[n] !== undefined && o[n] !== null) return o[n];
  return undefined;
}

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
}

function cell(content, cls) {
  const td = el('td', { class: cls });
  if (content instanceof Node) td.append(content); else td.textContent = content === undefined || content === null ? '' : String(content);
  return td;
}

function bytes(n) {
  if (n === undefined || n === null) return '';
  const u = ['B', 'KiB', 'MiB', 'GiB'];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return (i ? n.toFixed(1) : n) + ' ' + u[i];
}

function when(t) {
  if (!t) return '';
  const d = new Date(t);
  if (isNaN(d)) return String(t);
  return d.toLocaleString();
}

function say(msg) {
  $('#status').textContent = msg;
  clearTimeout(say.t);
  say.t = setTimeout(() => { $('#status').textContent = ''; }, 6000);
}

function fail(err) {
  if (err && err.name === 'AbortError') return;
  if (err instanceof APIError && err.status === 401) return; // signedOut said it
  $('#error-text').textContent = err && err.message ? err.message : String(err);
  $('#error').hidden = false;
}

function clearError() { $('#error').hidden = true; $('#error-text').textContent = ''; }

// confirmDialog asks in the page's <dialog> (never window.confirm) and
// resolves true only for the confirming button. Each call listens on the
// buttons itself: a close event from an earlier dialog cannot answer it.
function confirmDialog(text, okLabel) {
  const d = $('#confirm'), ok = $('#confirm-ok'), cancel = $('#confirm-cancel');
  $('#confirm-text').textContent = text;
  ok.textContent = okLabel || 'Delete';
  return new Promise(resolve => {
    const answer = yes => ev => {
      ev.preventDefault();
      ok.removeEventListener('click', onOk);
      cancel.removeEventListener('click', onCancel);
      d.removeEventListener('cancel', onCancel);
      if (d.open) d.close();
      resolve(yes);
    };
    const onOk = answer(true), onCancel = answer(false);
    ok.addEventListener('click', onOk);
    cancel.addEventListener('click', onCancel);
    d.addEventListener('cancel', onCancel); // Escape
    d.showModal();
    cancel.focus();
  });
}

// ---- session -------------------------------------------------------------

// ---- what the session's token may do ---------------------------------------
// The scope rules of the admin API (internal/access), so that the page
// offers only what the token may do; the admin API enforces them
// regardless, and its 403 names the rule.

function scope() { return (state.session && state.session.scope) || ''; }

// globRE turns a functions pattern (Go's path.Match syntax: * ? [a-z]
// [^a-z] \x; names hold no '/') into a regular expression.
function globRE(glob) {
  const esc = c => c.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[' && glob.indexOf(']', i + 2) > 0) {
      const end = glob.indexOf(']', i + 2);
      re += '[' + glob.slice(i + 1, end) + ']'; // the same class syntax
      i = end;
    } else if (c === '\\' && i + 1 < glob.length) re += esc(glob[++i]);
    else re += esc(c);
  }
  return new RegExp('^' + re + '$');
}

// mayReach says whether the token may act on the function name (the
// admin API decides; an unreadable pattern here hides nothing).
function mayReach(name) {
  const p = state.session && state.session.functions;
  if (!p) return true;
  try { return globRE(p).test(name); } catch (_) { return true; }
}

const can = {
  deploy: name => (scope() === 'admin' || scope() === 'deploy') && (name === undefined || mayReach(name)),
  editKV: () => scope() === 'admin' || scope() === 'kv',
  replay: () => scope() === 'admin',
  // The kv scope reaches /v1/kv only: the other views would be refused.
  view: v => scope() !== 'kv' || v === 'kv',
};

// refusal says why a control is missing, naming the rule.
function refusal(what) {
  const s = state.session || {};
  return 'The token ' + s.token + ' (scope ' + s.scope + (s.functions ? ', functions ' + s.functions : '') + ') may not ' + what + '.';
}

function applyScope() {
  const s = state.session || {};
  $('#who').textContent = s.token ? 'signed in with token ' + s.token + ' (scope ' + s.scope + (s.functions ? ', functions ' + s.functions : '') + ')' : '';
  for (const a of document.querySelectorAll('.tabs a')) a.parentElement.hidden = !can.view(a.dataset.view);
  $('#deploy-form').hidden = !can.deploy();
  $('#deploy-refused').hidden = can.deploy();
  $('#deploy-refused').textContent = can.deploy() ? '' : refusal('deploy');
  if (s.functions) $('#deploy-name').placeholder = s.functions;
  else $('#deploy-name').removeAttribute('placeholder');
  $('#kv-save').hidden = $('#kv-delete').hidden = !can.editKV();
  $('#kv-value').readOnly = $('#kv-ttl').readOnly = $('#kv-key').readOnly = !can.editKV();
  $('#kv-editor h3').firstChild.textContent = can.editKV() ? 'Edit ' : 'View ';
  $('#kv-refused').hidden = can.editKV();
  $('#kv-refused').textContent = can.editKV() ? '' : refusal('change keys');
  $('#replay-all').hidden = !can.replay();
}

function signedOut(msg) {
  stopView();
  state.session = null;
  $('#who').textContent = '';
  $('#signed-in').hidden = true;
  $('#sign-out').hidden = true;
  $('#sign-in-view').hidden = false;
  $('#node-name').textContent = '';
  $('#sign-in-error').textContent = msg || '';
  $('#token').focus();
}

function signedIn(info) {
  state.session = info || {};
  drawn.clear();
  applyScope();
  $('#sign-in-view').hidden = true;
  $('#signed-in').hidden = false;
  $('#sign-out').hidden = false;
  $('#node-name').textContent = info && info.node ? 'node ' + info.node : '';
  route();
}

async function signIn(ev) {
  ev.preventDefault();
  const token = $('#token').value.trim();
  $('#sign-in-error').textContent = '';
  try {
    const info = await api('POST', '/console/session', { body: JSON.stringify({ token }), type: 'application/json' });
    $('#token').value = '';
    clearError();
    signedIn(info);
    say('Signed in.');
  } catch (err) {
    $('#sign-in-error').textContent = err.status === 401 ? 'This node accepts no such token.' : err.message;
  }
}

async function signOut() {
  try { await api('DELETE', '/console/session'); } catch (_) { /* signed out either way */ }
  signedOut('Signed out.');
}

// ---- views ---------------------------------------------------------------

const views = { functions: showFunctions, function: showFunction, kv: showKV, events: showEvents, cluster: showCluster, traces: showTraces };

function stopView() {
  clearInterval(state.timer);
  state.timer = 0;
  if (state.logAbort) { state.logAbort.abort(); state.logAbort = null; }
}

function route() {
  if ($('#signed-in').hidden) return;
  const hash = decodeURIComponent(location.hash.slice(1)) || 'functions';
  const [name, ...rest] = hash.split('/');
  let view = views[name] ? name : 'functions';
  if (!can.view(view === 'function' ? 'functions' : view)) view = 'kv';
  stopView();
  for (const s of document.querySelectorAll('.view')) s.hidden = s.id !== view + '-view';
  for (const a of document.querySelectorAll('.tabs a')) {
    const on = a.dataset.view === view || (view === 'function' && a.dataset.view === 'functions');
    if (on) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
  state.view = view;
  const shown = views[view](rest.join('/')).catch(fail);
  // Moving between views by link or keyboard: focus the new view's
  // heading so a screen reader announces it.
  if (route.byUser) shown.then(() => { const h = $('#' + view + '-view h2'); if (h) h.focus(); });
}

// changed says whether data differs from what was last drawn under key:
// a refresh that changes nothing leaves the DOM (and keyboard focus) alone.
const drawn = new Map();
function changed(key, data) {
  const j = JSON.stringify(data);
  if (drawn.get(key) === j) return false;
  drawn.set(key, j);
  return true;
}

function every(ms, f) {
  state.timer = setInterval(() => f().catch(fail), ms);
}

// ---- functions -------------------------------------------------------------

function limitsText(l) {
  if (!l) return 'defaults';
  const parts = [];
  const t = pick(l, 'timeout_ms'); if (t) parts.push(t + ' ms');
  const m = pick(l, 'memory_bytes'); if (m) parts.push(bytes(m));
  const mb = pick(l, 'memory_mb'); if (mb) parts.push(mb + ' MiB');
  const c = pick(l, 'max_concurrency'); if (c) parts.push(c + ' at once');
  const r = pick(l, 'max_response_bytes'); if (r) parts.push('response ≤ ' + bytes(r));
  return parts.length ? parts.join(', ') : 'defaults';
}

// kindText names what a function is: JavaScript (with its script's
// size), or a WebAssembly module and its entry.
function kindText(f) {
  const k = pick(f, 'kind') || pick(f, 'entry');
  const script = pick(f, 'script');
  if (k === 'js') return 'JavaScript' + (script ? ' (script ' + bytes(script.bytes) + ')' : '');
  if (k === 'native') return 'Wasm, native entry';
  if (k === 'cgi') return 'Wasm, WASI command (CGI)';
  return k || '';
}

function snapshotText(f) {
  const s = pick(f, 'snapshot');
  if (s) {
    const us = pick(s, 'init_us');
    const saved = us >= 1000 ? (us / 1000).toFixed(1) + ' ms' : us + ' µs';
    return 'pre-initialized' + (us ? ' (saves ' + saved + ' per request)' : '');
  }
  if (pick(f, 'no_snapshot')) return 'off';
  return 'none';
}

async function showFunctions() {
  await loadFunctions();
  every(10000, loadFunctions);
}

async function loadFunctions() {
  const data = await api('GET', '/v1/functions');
  const fns = (pick(data, 'functions') || []).filter(f => mayReach(f.name)).sort((a, b) => a.name.localeCompare(b.name));
  if (!changed('functions', fns) && $('#functions-table tbody').rows.length) return;
  const body = $('#functions-table tbody');
  body.replaceChildren(...fns.map(f => {
    const name = f.name;
    const open = el('a', { href: '#function/' + encodeURIComponent(name), text: name });
    const del = can.deploy(name) ? el('button', { type: 'button', class: 'danger', 'aria-label': 'Delete ' + name, text: 'Delete', onclick: () => deleteFunction(name) }) : null;
    return el('tr', { 'data-function': name, 'data-kind': pick(f, 'kind') || pick(f, 'entry') || '' },
      cell(open), cell(pick(f, 'version'), 'num'), cell((pick(f, 'routes') || []).join(' ')), cell(kindText(f)),
      cell(bytes(pick(f, 'size', 'size_bytes')), 'num'), cell(snapshotText(f)), cell(limitsText(pick(f, 'limits'))), cell(del));
  }));
  $('#functions-empty').hidden = fns.length > 0;
}

async function deleteFunction(name) {
  if (!await confirmDialog('Delete the function ' + name + '? Its routes stop answering on every node.', 'Delete ' + name)) return;
  try {
    await api('DELETE', '/v1/functions/' + encodeURIComponent(name));
    say('Deleted ' + name + '.');
    if (state.view === 'functions') await loadFunctions(); else location.hash = '#functions';
  } catch (err) { fail(err); }
}

function chooseFile(file) {
  if (!file) return;
  state.file = file;
  const base = file.name.replace(/\.(wasm|m?js)$/i, '').replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 64);
  if (!$('#deploy-name').value) $('#deploy-name').value = base;
  if (!$('#deploy-routes').value) $('#deploy-routes').value = '/' + base;
  $('#deploy-progress').textContent = file.name + ' (' + bytes(file.size) + ') ready to deploy.';
}

async function deploy(ev) {
  ev.preventDefault();
  const file = state.file || $('#deploy-file').files[0];
  if (!file) { fail(new Error('choose a .wasm or .js file first')); return; }
  const name = $('#deploy-name').value.trim();
  const routes = $('#deploy-routes').value.split(/[\s,]+/).filter(Boolean);
  const q = new URLSearchParams();
  for (const r of routes) q.append('route', r);
  const js = /\.m?js$/i.test(file.name);
  const button = $('#deploy-button');
  button.disabled = true;
  const started = performance.now();
  $('#deploy-progress').textContent = 'Uploading ' + bytes(file.size) + ' and compiling…';
  try {
    const f = await api('PUT', '/v1/functions/' + encodeURIComponent(name) + '?' + q, {
      body: await file.arrayBuffer(), type: js ? 'application/javascript' : 'application/wasm' });
    const secs = ((performance.now() - started) / 1000).toFixed(1);
    $('#deploy-progress').textContent = 'Deployed ' + f.name + ' version ' + pick(f, 'version') + ' in ' + secs + ' s.';
    say('Deployed ' + f.name + '.');
    clearError();
    state.file = null;
    $('#deploy-form').reset();
    await loadFunctions();
  } catch (err) {
    $('#deploy-progress').textContent = 'Deploy failed.';
    fail(err);
  } finally {
    button.disabled = false;
  }
}

function setupDrop() {
  const zone = $('#drop-zone');
  zone.addEventListener('dragover', ev => { ev.preventDefault(); zone.classList.add('over'); });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', ev => {
    ev.preventDefault();
    zone.classList.remove('over');
    chooseFile(ev.dataTransfer.files[0]);
  });
  $('#deploy-file').addEventListener('change', ev => { state.file = null; chooseFile(ev.target.files[0]); });
}

// ---- one function: facts, charts, live log ---------------------------------

async function showFunction(name) {
  state.fn = name;
  $('#function-title').textContent = name;
  $('#log-tail tbody').replaceChildren();
  const f = await api('GET', '/v1/functions/' + encodeURIComponent(name));
  const facts = [
    ['Version', pick(f, 'version')], ['Routes', (pick(f, 'routes') || []).join(' ') || '(none)'],
    ['Kind', kindText(f)], ['Module size', bytes(pick(f, 'size', 'size_bytes'))],
    ['Script SHA-256', (pick(f, 'script') || {}).sha256],
    ['Snapshot', snapshotText(f)], ['Limits', limitsText(pick(f, 'limits'))], ['Module SHA-256', pick(f, 'sha256')],
    ['KV namespace', pick(f, 'kv_namespace')], ['Affinity', pick(f, 'affinity')], ['App', pick(f, 'app')],
    ['Triggers', (pick(f, 'triggers') || []).map(t => t.kind + ':' + (t.queue || t.bucket || t.cron || t.namespace || '')).join(' ')],
    ['Updated', when(pick(f, 'updated'))],
  ];
  $('#function-facts').replaceChildren(...facts.filter(([, v]) => v !== undefined && v !== '').flatMap(([k, v]) => [el('dt', { text: k }), el('dd', { text: String(v) })]));
  await loadVersions(name);
  await loadCharts(name);
  every(10000, () => loadCharts(name));
  followLogs(name);
}

// The kept versions, newest first, each with a button making it active
// again (POST /v1/functions/NAME/rollback?version=N).
async function loadVersions(name) {
  const data = await api('GET', '/v1/functions/' + encodeURIComponent(name) + '/versions');
  $('#versions-table tbody').replaceChildren(...(pick(data, 'versions') || []).map(v => {
    const n = pick(v, 'version');
    const action = pick(v, 'active') ? el('span', { class: 'muted', text: 'active' })
      : !can.deploy(name) ? null : el('button', { type: 'button', 'aria-label': 'Roll back ' + name + ' to version ' + n, text: 'Roll back', onclick: () => rollback(name, n) });
    return el('tr', { 'data-version': String(n), 'data-active': pick(v, 'active') ? 'true' : null }, cell(n, 'num'), cell(kindText(v)), cell(when(pick(v, 'deployed'))), cell(pick(v, 'deployed_by') || ''),
      cell(String(pick(v, 'sha256') || '').slice(0, 12)), cell(action));
  }));
}

async function rollback(name, version) {
  if (!await confirmDialog('Make version ' + version + ' of ' + name + ' the active one on every node?', 'Roll back to ' + version)) return;
  try {
    await api('POST', '/v1/functions/' + encodeURIComponent(name) + '/rollback?version=' + version);
    say('Rolled ' + name + ' back to version ' + version + '.');
    route(); // redraw the view (stops its timer and log stream first)
  } catch (err) { fail(err); }
}

async function followLogs(name) {
  const ctl = new AbortController();
  state.logAbort = ctl;
  $('#log-state').textContent = 'Following…';
  try {
    const res = await api('GET', '/v1/functions/' + encodeURIComponent(name) + '/logs?follow=1&limit=100', { raw: true, signal: ctl.signal });
    const reader = res.body.getReader();
    const dec = new TextDecoder();
    let buf = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += dec.decode(value, { stream: true });
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i).trim();
        buf = buf.slice(i + 1);
        if (line) addLog(JSON.parse(line));
      }
    }
    $('#log-state').textContent = 'The log stream ended.';
  } catch (err) {
    if (err.name === 'AbortError') return;
    $('#log-state').textContent = 'The log stream stopped: ' + err.message;
  }
}

const maxLogRows = 500;

function addLog(e) {
  const body = $('#log-tail tbody');
  if (e.missed) {
    body.append(el('tr', {}, cell(''), cell(''), cell('warn'), cell(e.missed + ' lines missed (the follower fell behind)')));
    return;
  }
  if (state.paused) return;
  const wrap = $('.log-wrap');
  const atEnd = wrap.scrollTop + wrap.clientHeight >= wrap.scrollHeight - 4;
  const t = new Date(pick(e, 'time'));
  body.append(el('tr', { class: 'level-' + (e.level || 'info'), 'data-request': pick(e, 'request_id') || '' },
    cell(isNaN(t) ? '' : t.toLocaleTimeString()), cell(pick(e, 'request_id') || ''), cell(e.level || ''), cell(pick(e, 'message') || '')));
  while (body.rows.length > maxLogRows) body.deleteRow(0);
  if (atEnd) wrap.scrollTop = wrap.scrollHeight;
}

// ---- charts (inline SVG) ---------------------------------------------------

const svgNS = 'http://www.w3.org/2000/svg';

function svg(tag, attrs) {
  const e = document.createElementNS(svgNS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
}

function fmt(v, unit) {
  if (unit === '%') return (v * 100).toFixed(v >= 0.1 ? 0 : 1) + ' %';
  if (unit === 'ms') return v >= 100 ? v.toFixed(0) + ' ms' : v.toFixed(v >= 10 ? 1 : 2) + ' ms';
  return (v >= 100 ? v.toFixed(0) : v.toFixed(v >= 10 ? 1 : 2)) + ' ' + unit;
}

// chart draws series (arrays of {t, v}) over the last hour as bars, one
// per sample; a second series (p99) is drawn behind the first (p50).
function chart(title, unit, series, legend) {
  const W = 360, H = 100, now = Date.now() / 1000, from = now - 3600, bar = W / 360;
  let top = 0;
  for (const s of series) for (const p of s) top = Math.max(top, p.v);
  const peak = top;
  top = unit === '%' ? Math.max(top, 0.01) : (top > 0 ? top * 1.1 : 1);
  const first = series[0];
  const last = first.length ? first[first.length - 1].v : 0;
  const box = el('figure', { class: 'chart' });
  const g = svg('svg', { viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: 'none', role: 'img',
    'aria-label': first.length ? `${title}: now ${fmt(last, unit)}, peak ${fmt(peak, unit)} in the last hour` : `${title}: no requests in the last hour` });
  g.append(svg('line', { x1: 0, y1: H - 0.5, x2: W, y2: H - 0.5, class: 'axis' }));
  for (let i = series.length - 1; i >= 0; i--) {
    for (const p of series[i]) {
      const h = Math.max(p.v > 0 ? 1.5 : 0, p.v / top * (H - 4));
      const x = Math.max(0, Math.min(W - bar * 2, (p.t - from) / 3600 * W - bar * 2));
      g.append(svg('rect', { x: x.toFixed(2), y: (H - h).toFixed(2), width: (bar * 2).toFixed(2), height: h.toFixed(2), class: i ? 'bar second' : 'bar' }));
    }
  }
  const head = el('figcaption', {}, el('h4', { text: title }),
    el('div', { class: 'now', text: first.length ? fmt(last, unit) : '–' }),
    el('div', { class: 'legend', text: `scale 0 – ${fmt(top, unit)}, last 60 min` }));
  if (legend) head.append(legend);
  box.append(head, g);
  return box;
}

async function loadCharts(name) {
  const h = await api('GET', '/v1/console/history/' + encodeURIComponent(name));
  const s = h.samples || [];
  const pts = k => s.map(p => ({ t: p.t, v: p[k] || 0 }));
  const busy = s.filter(p => p.requests > 0);
  const lat = k => busy.map(p => ({ t: p.t, v: p[k] || 0 }));
  const legend = el('div', { class: 'legend' }, el('span', { class: 'p50', text: '— p50 ' }), el('span', { class: 'p99', text: '— p99' }));
  $('#charts').replaceChildren(
    chart('Requests per second', 'req/s', [pts('rps')]),
    chart('Error rate (5xx)', '%', [pts('error_rate')]),
    chart('Latency p50 / p99', 'ms', [lat('p50_ms'), lat('p99_ms')], legend));
}

// ---- key-value -------------------------------------------------------------

async function showKV(ns) {
  const data = await api('GET', '/v1/kv');
  const nss = data.namespaces || [];
  $('#kv-namespaces').replaceChildren(...nss.map(n => el('li', {},
    el('button', { type: 'button', 'data-ns': n.name, 'aria-current': n.name === ns ? 'true' : null,
      text: `${n.name} (${n.keys} key${n.keys === 1 ? '' : 's'}, ${bytes(n.bytes)})`, onclick: () => { location.hash = '#kv/' + encodeURIComponent(n.name); } }))));
  if (!nss.length) $('#kv-namespaces').append(el('li', { class: 'muted', text: 'No namespaces yet.' }));
  $('#kv-editor').hidden = true;
  if (ns) {
    $('#kv-ns').value = ns;
    await listKeys(false);
  } else {
    $('#kv-keys tbody').replaceChildren();
  }
}

async function listKeys(more) {
  const ns = $('#kv-ns').value.trim();
  if (!ns) return;
  const q = new URLSearchParams({ prefix: $('#kv-prefix').value, limit: '100' });
  if (more && state.kvCursor) q.set('cursor', state.kvCursor);
  const data = await api('GET', '/v1/kv/' + encodeURIComponent(ns) + '?' + q);
  const rows = (data.keys || []).map(k => el('tr', { 'data-key': k.key },
    cell(el('button', { type: 'button', class: 'link', text: k.key, onclick: () => editKey(ns, k.key) })),
    cell(k.version, 'num'), cell(k.expires ? when(k.expires) : 'never')));
  if (more) $('#kv-keys tbody').append(...rows); else $('#kv-keys tbody').replaceChildren(...rows);
  if (!more && !rows.length) $('#kv-keys tbody').append(el('tr', {}, el('td', { colspan: '3', class: 'muted', text: 'No keys with this prefix.' })));
  state.kvCursor = data.next_cursor || '';
  $('#kv-more').hidden = !state.kvCursor;
}

async function editKey(ns, key) {
  const res = await api('GET', '/v1/kv/' + encodeURIComponent(ns) + '/' + encodeURIComponent(key), { raw: true }).catch(err => { fail(err); return null; });
  if (!res) return;
  const value = await res.text();
  const exp = res.headers.get('Expires');
  state.kvNs = ns;
  $('#kv-editing').textContent = ns + '/' + key;
  $('#kv-key').value = key;
  $('#kv-value').value = value;
  $('#kv-ttl').value = exp ? Math.max(1, Math.round((new Date(exp) - Date.now()) / 1000)) : '';
  $('#kv-meta').textContent = 'Version ' + (res.headers.get('X-Wedge-Version') || '?') + (exp ? ', expires ' + when(exp) : ', never expires');
  $('#kv-editor').hidden = false;
  $('#kv-value').focus();
}

async function saveKey(ev) {
  ev.preventDefault();
  const ns = $('#kv-ns').value.trim();
  const key = $('#kv-key').value;
  const q = new URLSearchParams();
  const ttl = $('#kv-ttl').value.trim();
  if (ttl) q.set('ttl', ttl);
  try {
    const r = await api('PUT', '/v1/kv/' + encodeURIComponent(ns) + '/' + encodeURIComponent(key) + (ttl ? '?' + q : ''),
      { body: $('#kv-value').value, type: 'application/octet-stream' });
    $('#kv-meta').textContent = 'Saved: version ' + r.version + (r.expires ? ', expires ' + when(r.expires) : ', never expires');
    say('Saved ' + ns + '/' + key + '.');
    await listKeys(false);
  } catch (err) { fail(err); }
}

async function deleteKey() {
  const ns = $('#kv-ns').value.trim();
  const key = $('#kv-key').value;
  if (!await confirmDialog('Delete the key ' + key + ' from ' + ns + '?', 'Delete key')) return;
  try {
    await api('DELETE', '/v1/kv/' + encodeURIComponent(ns) + '/' + encodeURIComponent(key));
    say('Deleted ' + ns + '/' + key + '.');
    $('#kv-editor').hidden = true;
    await listKeys(false);
  } catch (err) { fail(err); }
}

// ---- queues, schedules, buckets -------------------------------------------

async function showEvents() {
  await loadEvents();
  every(10000, loadEvents);
}

async function loadEvents() {
  const data = await api('GET', '/v1/console/events');
  if (state.deadQueue) await loadDead();
  if (!changed('events', data)) return;
  $('#queues tbody').replaceChildren(...(data.queues || []).map(q => el('tr', { 'data-queue': q.name },
    cell(q.name), cell((q.consumers || []).join(', ') || '(none)'), cell(q.dead, 'num'),
    cell(el('button', { type: 'button', class: 'secondary', 'aria-label': 'Dead letters of ' + q.name, text: 'Dead letters', onclick: () => showDead(q.name) })))));
  if (!(data.queues || []).length) $('#queues tbody').append(el('tr', {}, el('td', { colspan: '4', class: 'muted', text: 'No queues.' })));
  $('#schedules tbody').replaceChildren(...(data.schedules || []).map(s => el('tr', {},
    cell(s.function), cell(s.cron, 'mono'), cell(s.timezone), cell(s.last ? when(s.last) : 'not yet'), cell(when(s.next)))));
  if (!(data.schedules || []).length) $('#schedules tbody').append(el('tr', {}, el('td', { colspan: '5', class: 'muted', text: 'No schedules.' })));
  $('#buckets tbody').replaceChildren(...(data.buckets || []).map(b => el('tr', {},
    cell(el('button', { type: 'button', class: 'link', text: b.name, onclick: () => showObjects(b.name) })),
    cell(b.objects, 'num'), cell(bytes(b.bytes), 'num'), cell((b.triggers || []).join(', ') || '(none)'))));
  if (!(data.buckets || []).length) $('#buckets tbody').append(el('tr', {}, el('td', { colspan: '4', class: 'muted', text: 'No buckets.' })));
}

async function showDead(queue) {
  state.deadQueue = queue;
  $('#dead-title').textContent = 'Dead letters of ' + queue;
  $('#dead-panel').hidden = false;
  await loadDead();
  $('#replay-all').focus();
}

async function loadDead() {
  const queue = state.deadQueue;
  const data = await api('GET', '/v1/queues/' + encodeURIComponent(queue) + '/dead');
  const dead = data.dead || [];
  if (!changed('dead', { queue, dead })) return;
  $('#dead tbody').replaceChildren(...dead.map(d => el('tr', { 'data-id': d.id },
    cell(d.id, 'num'), cell(d.function), cell(d.attempts, 'num'), cell(d.last_error), cell(d.body, 'mono'), cell(when(d.dead_at)),
    cell(can.replay() ? el('button', { type: 'button', class: 'secondary', 'aria-label': 'Replay dead letter ' + d.id, text: 'Replay', onclick: () => replay(queue, d.id) }) : null))));
  if (!dead.length) $('#dead tbody').append(el('tr', {}, el('td', { colspan: '7', class: 'muted', text: 'No dead letters.' })));
  $('#replay-all').disabled = !dead.length;
  $('#replay-refused').textContent = can.replay() ? '' : refusal('replay dead letters');
}

async function replay(queue, id) {
  try {
    const q = id ? '?id=' + encodeURIComponent(id) : '';
    const r = await api('POST', '/v1/queues/' + encodeURIComponent(queue) + '/dead/replay' + q);
    say('Replayed ' + r.replayed + ' message' + (r.replayed === 1 ? '' : 's') + ' of ' + queue + '.');
    await loadEvents();
  } catch (err) { fail(err); }
}

async function showObjects(bucket) {
  const data = await api('GET', '/v1/buckets/' + encodeURIComponent(bucket));
  $('#objects-title').textContent = 'Objects in ' + bucket;
  $('#objects tbody').replaceChildren(...(data.objects || []).map(o => el('tr', {},
    cell(o.name), cell(bytes(o.size), 'num'), cell(o.content_type), cell(when(o.created)))));
  if (!(data.objects || []).length) $('#objects tbody').append(el('tr', {}, el('td', { colspan: '4', class: 'muted', text: 'Empty.' })));
  $('#objects-panel').hidden = false;
}

// ---- cluster ---------------------------------------------------------------

async function showCluster() {
  await loadCluster();
  every(5000, loadCluster);
}

async function loadCluster() {
  const [m, a] = await Promise.all([api('GET', '/v1/cluster/members'), api('GET', '/v1/console/affinity')]);
  $('#members tbody').replaceChildren(...(m.members || []).map(x => {
    const load = Number(x.load) || 0;
    return el('tr', { 'data-member': x.name },
      cell(x.name + (x.self ? ' (this node)' : '')), cell(x.state, 'state-' + x.state),
      cell(el('span', {}, el('meter', { min: '0', max: '1', low: '0.7', high: '0.9', optimum: '0', value: String(load), 'aria-label': 'load of ' + x.name }),
        ' ' + Math.round(load * 100) + ' %')),
      cell(x.inflight + ' / ' + x.limit, 'num'), cell(x.public_addr, 'mono'), cell(x.admin_addr, 'mono'), cell(x.version));
  }));
  const fns = a.functions || [];
  $('#affinity tbody').replaceChildren(...fns.map(f => el('tr', {},
    cell(f.function), cell(f.affinity, 'mono'), cell((f.serving || []).join(', ') || '(none yet)'))));
  $('#affinity-empty').hidden = fns.length > 0;
}

async function findOwner(ev) {
  ev.preventDefault();
  const q = new URLSearchParams({ function: $('#owner-function').value.trim(), key: $('#owner-key').value });
  try {
    const r = await api('GET', '/v1/console/affinity?' + q);
    $('#owner-result').textContent = `Key ${r.owner.key} of ${r.owner.function} is owned by ${r.owner.node}.`;
  } catch (err) {
    $('#owner-result').textContent = err.message;
  }
}

// ---- traces ----------------------------------------------------------------
// The node's in-memory ring (GET /v1/traces): a list, and one trace's spans
// as a tree, indented by depth, with their offsets from the trace's start.

function micros(us) {
  return us >= 1000 ? (us / 1000).toFixed(2) + ' ms' : us + ' µs';
}

async function showTraces(id) {
  $('#trace-panel').hidden = true;
  await loadTraces();
  if (id) await showTrace(id);
}

async function loadTraces() {
  let r;
  try {
    r = await api('GET', '/v1/traces');
  } catch (err) {
    if (!(err instanceof APIError) || err.status !== 404) throw err;
    $('#traces-note').textContent = err.message;
    $('#traces-note').hidden = false;
    $('#traces tbody').replaceChildren();
    return;
  }
  $('#traces-note').hidden = true;
  $('#traces tbody').replaceChildren(...(r.traces || []).map(t => el('tr', {},
    cell(el('a', { href: '#traces/' + t.trace_id, class: 'mono', text: t.trace_id })),
    cell(t.root), cell(when(t.start)), cell(micros(t.duration_us), 'num'), cell(t.spans, 'num'))));
}

async function showTrace(id) {
  const r = await api('GET', '/v1/traces/' + encodeURIComponent(id));
  const spans = r.spans || [];
  const byId = new Map(spans.map(s => [s.span_id, s]));
  const depth = s => { let d = 0; for (let p = byId.get(s.parent_id); p && d < 32; p = byId.get(p.parent_id)) d++; return d; };
  const t0 = spans.length ? Date.parse(spans[0].start) : 0;
  $('#trace-title').textContent = 'Trace ' + id;
  $('#trace-spans tbody').replaceChildren(...spans.map(s => el('tr', {},
    cell(el('span', { class: 'mono', text: '\u00a0\u00a0'.repeat(depth(s)) + s.name })),
    cell(s.node), cell(((Date.parse(s.start) - t0)).toFixed(0), 'num'), cell(micros(s.duration_us), 'num'),
    cell(s.error ? 'error: ' + s.error : ((s.attributes || {})['wedge.target'] || (s.attributes || {})['wedge.function'] || ''))))); 
  $('#trace-panel').hidden = false;
}

// ---- start -----------------------------------------------------------------

function start() {
  $('#sign-in-form').addEventListener('submit', signIn);
  $('#sign-out').addEventListener('click', signOut);
  $('#error-close').addEventListener('click', clearError);
  $('#deploy-form').addEventListener('submit', deploy);
  $('#kv-search').addEventListener('submit', ev => {
    ev.preventDefault();
    const ns = $('#kv-ns').value.trim();
    if (location.hash !== '#kv/' + encodeURIComponent(ns)) location.hash = '#kv/' + encodeURIComponent(ns);
    else listKeys(false).catch(fail);
  });
  $('#kv-more').addEventListener('click', () => listKeys(true).catch(fail));
  $('#kv-editor').addEventListener('submit', saveKey);
  $('#kv-delete').addEventListener('click', deleteKey);
  $('#replay-all').addEventListener('click', () => replay(state.deadQueue, ''));
  $('#owner-form').addEventListener('submit', findOwner);
  $('#log-pause').addEventListener('click', ev => {
    state.paused = !state.paused;
    ev.target.setAttribute('aria-pressed', String(state.paused));
    ev.target.textContent = state.paused ? 'Resume' : 'Pause';
  });
  $('#log-clear').addEventListener('click', () => $('#log-tail tbody').replaceChildren());
  setupDrop();
  window.addEventListener('hashchange', () => { route.byUser = true; route(); });
  // The skip link focuses the content; it must not change the hash (the
  // hash names the view).
  $('.skip').addEventListener('click', ev => { ev.preventDefault(); $('#main').focus(); });
  api('GET', '/console/session').then(signedIn, () => signedOut(''));
}

start();
