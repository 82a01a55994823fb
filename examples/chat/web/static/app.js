// wedge chat: the browser side. Plain DOM, no framework. Every piece of
// text that comes from the API is put on the page with textContent or as
// a text node, never parsed as HTML.
'use strict';

const POLL_MESSAGES_MS = 1000;
const POLL_INBOX_MS = 2000;
const POLL_ROOMS_MS = 5000;
const PAGE = 50;

const $ = (id) => document.getElementById(id);

const state = {
  token: sessionStorage.getItem('chat.token'),
  user: sessionStorage.getItem('chat.user'),
  rooms: [],          // from GET /api/rooms
  unread: {},         // room -> count, from GET /api/inbox
  room: null,         // the open room
  gen: 0,             // bumped when the open room changes: stale answers are dropped
  loaded: false,      // the open room's first page is shown: polling may start
  lastId: 0,          // newest message shown
  firstId: 0,         // oldest message shown
  shown: new Set(),   // ids shown in the open room
  timers: [],
  loginAt: 0,         // when this tab logged in (Date.now())
};

// A cluster replicates a new session to the other nodes within a moment;
// a request that reaches another node before it arrives gets a 401. So a
// 401 shortly after logging in is retried once before the session is
// given up.
const FRESH_SESSION_MS = 5000;

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// A node that is saturated sheds a request with 503 and Retry-After
// before running it (X-Wedge-Error: overloaded, or installing while a
// node fetches the app): such a request is safe to send again, once,
// after the wait it asks for (at most BUSY_RETRY_MAX_S).
const BUSY_RETRY_MAX_S = 3;

// api calls the JSON API. It throws an ApiError carrying the API's own
// error text, or a plain description when there is none.
async function api(method, path, body, retried, busyRetried) {
  const headers = {};
  if (state.token) headers['Authorization'] = 'Bearer ' + state.token;
  const init = { method, headers, cache: 'no-store' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch (e) {
    throw new ApiError(0, 'The server cannot be reached. Check your connection.');
  }
  const text = await res.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch (e) { data = null; }
  }
  if (!res.ok) {
    let msg = data && typeof data.error === 'string' ? data.error : '';
    if (!msg && res.status === 503) {
      const wait = parseInt(res.headers.get('Retry-After') || '', 10);
      msg = 'The server is busy right now: try again' + (wait > 0 ? ` in ${wait} s.` : ' in a moment.');
    }
    if (!msg) msg = `The server answered ${res.status} ${res.statusText}` + (text ? ': ' + text.slice(0, 200) : '');
    const shed = res.status === 503 && ['overloaded', 'installing'].includes(res.headers.get('X-Wedge-Error') || '');
    if (shed && !busyRetried) {
      const wait = Math.min(Math.max(parseInt(res.headers.get('Retry-After') || '1', 10) || 1, 1), BUSY_RETRY_MAX_S);
      await new Promise((resolve) => setTimeout(resolve, wait * 1000));
      return api(method, path, body, retried, true);
    }
    if (res.status === 401 && state.token && !retried && Date.now() - state.loginAt < FRESH_SESSION_MS) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      return api(method, path, body, true, busyRetried);
    }
    if (res.status === 401 && state.token) {
      endSession('Your session has ended: please log in again.');
    }
    throw new ApiError(res.status, msg);
  }
  return data;
}

// --- errors -------------------------------------------------------------

function showError(msg) {
  $('error-text').textContent = msg;
  $('error').hidden = false;
}

function clearError() {
  $('error').hidden = true;
  $('error-text').textContent = '';
}

function report(err) {
  showError(err instanceof ApiError ? err.message : 'Something went wrong: ' + String(err));
}

// --- views --------------------------------------------------------------

function showAuth() {
  stopTimers();
  $('loading').hidden = true;
  $('chat-view').hidden = true;
  $('auth-view').hidden = false;
  $('logout').hidden = true;
  $('back').hidden = true;
  $('whoami').textContent = '';
  $('title').textContent = 'wedge chat';
  document.body.classList.remove('in-room');
  $('username').focus();
}

function showChat() {
  $('loading').hidden = true;
  $('auth-view').hidden = true;
  $('chat-view').hidden = false;
  $('logout').hidden = false;
  $('whoami').textContent = 'Signed in as ' + state.user;
  startTimers();
  refreshRooms();
  refreshInbox();
}

function endSession(msg) {
  state.token = null;
  state.user = null;
  sessionStorage.removeItem('chat.token');
  sessionStorage.removeItem('chat.user');
  closeRoom();
  showAuth();
  if (msg) showError(msg);
}

// --- timers -------------------------------------------------------------

// every runs fn now-ish and then every ms, never two runs at once.
function every(ms, fn) {
  let stopped = false;
  let handle = 0;
  const tick = async () => {
    if (stopped) return;
    try { await fn(); } catch (e) { /* reported by fn */ }
    if (!stopped) handle = setTimeout(tick, ms);
  };
  handle = setTimeout(tick, ms);
  return () => { stopped = true; clearTimeout(handle); };
}

function startTimers() {
  stopTimers();
  state.timers.push(every(POLL_MESSAGES_MS, pollMessages));
  state.timers.push(every(POLL_INBOX_MS, refreshInbox));
  state.timers.push(every(POLL_ROOMS_MS, refreshRooms));
}

function stopTimers() {
  for (const stop of state.timers) stop();
  state.timers = [];
}

// --- auth ---------------------------------------------------------------

function credentials() {
  return {
    username: $('username').value.trim().toLowerCase(),
    password: $('password').value,
  };
}

async function login(creds) {
  const out = await api('POST', '/api/auth/login', creds);
  state.token = out.token;
  state.user = out.username;
  state.loginAt = Date.now();
  sessionStorage.setItem('chat.token', out.token);
  sessionStorage.setItem('chat.user', out.username);
  $('password').value = '';
  clearError();
  showChat();
}

async function withBusy(buttons, fn) {
  for (const b of buttons) b.disabled = true;
  try {
    await fn();
  } catch (e) {
    report(e);
  } finally {
    for (const b of buttons) b.disabled = false;
  }
}

function onLogin(ev) {
  ev.preventDefault();
  const creds = credentials();
  if (!creds.username || !creds.password) {
    showError('Enter a username and a password.');
    return;
  }
  withBusy([$('login-btn'), $('register-btn')], () => login(creds));
}

function onRegister() {
  const creds = credentials();
  withBusy([$('login-btn'), $('register-btn')], async () => {
    await api('POST', '/api/auth/register', creds);
    await login(creds);
  });
}

async function onLogout() {
  try { await api('POST', '/api/auth/logout'); } catch (e) { /* the session may be gone already */ }
  endSession('');
  clearError();
}

// --- rooms --------------------------------------------------------------

async function refreshRooms() {
  if (!state.token) return;
  try {
    const out = await api('GET', '/api/rooms');
    state.rooms = out.rooms || [];
    renderRooms();
  } catch (e) {
    report(e);
  }
}

async function refreshInbox() {
  if (!state.token) return;
  try {
    const out = await api('GET', '/api/inbox');
    state.unread = out.unread || {};
    // The open room is being read: clear its count.
    if (state.room && state.unread[state.room] > 0 && document.visibilityState === 'visible') {
      await markRead(state.room);
    }
    renderRooms();
  } catch (e) {
    report(e);
  }
}

async function markRead(room) {
  await api('POST', `/api/rooms/${encodeURIComponent(room)}/read`);
  delete state.unread[room];
}

function renderRooms() {
  const mine = [];
  const others = [];
  for (const r of state.rooms) {
    (r.joined ? mine : others).push(r);
  }
  const myItems = mine.map((r) => {
    const li = document.createElement('li');
    li.dataset.room = r.name;
    if (r.name === state.room) li.classList.add('current');
    const open = document.createElement('button');
    open.type = 'button';
    open.className = 'open';
    const name = document.createElement('span');
    name.className = 'name';
    name.textContent = '# ' + r.name;
    open.append(name);
    const n = state.unread[r.name] || 0;
    if (n > 0 && r.name !== state.room) {
      const badge = document.createElement('span');
      badge.className = 'badge';
      badge.textContent = n > 99 ? '99+' : String(n);
      badge.title = `${n} unread`;
      open.append(badge);
    }
    open.addEventListener('click', () => openRoom(r.name));
    li.append(open);
    return li;
  });
  const otherItems = others.map((r) => {
    const li = document.createElement('li');
    li.dataset.room = r.name;
    const name = document.createElement('span');
    name.className = 'other-name';
    name.textContent = '# ' + r.name;
    name.title = 'created by ' + r.creator;
    const join = document.createElement('button');
    join.type = 'button';
    join.className = 'secondary small join';
    join.textContent = 'Join';
    join.addEventListener('click', () => joinRoom(r.name, join));
    li.append(name, join);
    return li;
  });
  $('my-rooms').replaceChildren(...myItems);
  $('other-rooms').replaceChildren(...otherItems);
  $('my-rooms-empty').hidden = myItems.length > 0;
  $('other-rooms-empty').hidden = otherItems.length > 0;
}

function onCreateRoom(ev) {
  ev.preventDefault();
  const name = $('room-name').value.trim().toLowerCase();
  if (!name) {
    showError('Enter a name for the new room.');
    return;
  }
  withBusy([$('create-room')], async () => {
    // PUT with the name in the path: in a cluster the room's own node
    // creates it (the app's affinity), so its first post finds it there.
    await api('PUT', '/api/rooms/' + encodeURIComponent(name));
    $('room-name').value = '';
    clearError();
    await refreshRooms();
    openRoom(name);
  });
}

function joinRoom(name, button) {
  withBusy([button], async () => {
    await api('POST', `/api/rooms/${encodeURIComponent(name)}/join`);
    clearError();
    await refreshRooms();
    openRoom(name);
  });
}

// --- the open room ------------------------------------------------------

function closeRoom() {
  state.room = null;
  state.gen++;
  state.loaded = false;
  state.shown = new Set();
  state.lastId = state.firstId = 0;
  $('messages').replaceChildren();
  $('room').hidden = true;
  $('room-empty').hidden = false;
  $('back').hidden = true;
  $('title').textContent = 'wedge chat';
  document.body.classList.remove('in-room');
}

async function openRoom(name) {
  closeRoom();
  state.room = name;
  const gen = state.gen;
  $('room-title').textContent = '# ' + name;
  $('title').textContent = '# ' + name;
  $('room').hidden = false;
  $('room-empty').hidden = true;
  $('back').hidden = false;
  document.body.classList.add('in-room');
  renderRooms();
  try {
    const page = await api('GET', `/api/rooms/${encodeURIComponent(name)}/messages?limit=${PAGE}`);
    if (gen !== state.gen) return;
    addMessages(page.messages, false);
    state.loaded = true;
    $('older').hidden = !page.more;
    scrollToBottom();
    await markRead(name);
    renderRooms();
  } catch (e) {
    report(e);
  }
  if (gen === state.gen) $('composer-text').focus();
}

async function pollMessages() {
  const room = state.room;
  if (!room || !state.token || !state.loaded) return;
  const gen = state.gen;
  try {
    for (let i = 0; i < 10; i++) { // at most 10 pages per tick
      const page = await api('GET',
        `/api/rooms/${encodeURIComponent(room)}/messages?after=${state.lastId}&limit=100`);
      if (gen !== state.gen) return;
      const added = addMessages(page.messages, false);
      if (added > 0 && document.visibilityState === 'visible') {
        await markRead(room);
      }
      if (!page.more || page.messages.length === 0) break;
    }
  } catch (e) {
    if (gen === state.gen) report(e);
  }
}

async function loadOlder() {
  const room = state.room;
  const gen = state.gen;
  withBusy([$('older')], async () => {
    const page = await api('GET',
      `/api/rooms/${encodeURIComponent(room)}/messages?before=${state.firstId}&limit=${PAGE}`);
    if (gen !== state.gen) return;
    const scroller = $('scroller');
    const fromBottom = scroller.scrollHeight - scroller.scrollTop;
    addMessages(page.messages, true);
    scroller.scrollTop = scroller.scrollHeight - fromBottom;
    $('older').hidden = !page.more;
  });
}

// addMessages shows messages (oldest first) at the end of the list, or
// at its start when older is set, and returns how many were new.
function addMessages(msgs, older) {
  const scroller = $('scroller');
  const atBottom = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 40;
  const items = [];
  for (const m of msgs || []) {
    if (state.shown.has(m.id)) continue;
    state.shown.add(m.id);
    items.push(renderMessage(m));
    if (!state.firstId || m.id < state.firstId) state.firstId = m.id;
    if (m.id > state.lastId) state.lastId = m.id;
  }
  if (items.length === 0) return 0;
  if (older) {
    $('messages').prepend(...items);
  } else {
    $('messages').append(...items);
    if (atBottom) scrollToBottom();
  }
  return items.length;
}

function renderMessage(m) {
  const li = document.createElement('li');
  li.className = m.user === state.user ? 'msg mine' : 'msg';
  li.dataset.id = String(m.id);
  const meta = document.createElement('div');
  meta.className = 'meta';
  const who = document.createElement('span');
  who.className = 'user';
  who.textContent = m.user;
  const when = document.createElement('time');
  when.dateTime = m.time;
  when.textContent = formatTime(m.time);
  meta.append(who, document.createTextNode(' \u00b7 '), when);
  const text = document.createElement('div');
  text.className = 'text';
  text.textContent = m.text; // text, never parsed as HTML: markup in a message stays text
  li.append(meta, text);
  return li;
}

function formatTime(iso) {
  const d = new Date(iso);
  if (isNaN(d)) return '';
  const sameDay = d.toDateString() === new Date().toDateString();
  return sameDay
    ? d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })
    : d.toLocaleString([], { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

function scrollToBottom() {
  const s = $('scroller');
  s.scrollTop = s.scrollHeight;
}

function onSend(ev) {
  ev.preventDefault();
  const box = $('composer-text');
  const text = box.value.trim();
  const room = state.room;
  if (!text || !room) return;
  withBusy([$('send')], async () => {
    await api('POST', `/api/rooms/${encodeURIComponent(room)}/messages`, { text });
    if (room === state.room) box.value = '';
    clearError();
    await pollMessages(); // shows the message, in order with the others
    scrollToBottom();
  });
}

function onComposerKey(ev) {
  if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) {
    ev.preventDefault();
    $('composer').requestSubmit();
  }
}

// --- start --------------------------------------------------------------

async function start() {
  $('auth-form').addEventListener('submit', onLogin);
  $('register-btn').addEventListener('click', onRegister);
  $('logout').addEventListener('click', onLogout);
  $('error-close').addEventListener('click', clearError);
  $('create-room-form').addEventListener('submit', onCreateRoom);
  $('composer').addEventListener('submit', onSend);
  $('composer-text').addEventListener('keydown', onComposerKey);
  $('older').addEventListener('click', loadOlder);
  $('back').addEventListener('click', () => { closeRoom(); renderRooms(); });

  if (!state.token) {
    showAuth();
    return;
  }
  try {
    const me = await api('GET', '/api/auth/me');
    state.user = me.username;
    showChat();
  } catch (e) {
    if (state.token) { // not a 401 (that ended the session already)
      report(e);
    }
    if (!state.token) return;
    showAuth();
  }
}

start();
