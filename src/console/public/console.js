// The console page: picks who you are, shows the channels as the console server streams them (Server-Sent
// Events), and sends what you type and click back to it. Messages arrive as rendered HTML; this file only places
// them, so Slack's formatting rules live in one place (src/console/render.ts).

const $ = (id) => document.getElementById(id);
const key = (channel, ts) => `${channel}/${ts}`;

const state = {
  workspace: undefined,
  me: '',
  channel: '',
  /** Every message visible to `me`, by channel/ts. */
  messages: new Map(),
  thread: undefined,
  unread: new Map(),
  source: undefined,
  history: [],
  historyAt: 0,
};

function esc(text) {
  return String(text).replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c],
  );
}

function time(ts) {
  return new Date(Number(ts.split('.')[0]) * 1000).toLocaleTimeString([], {
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
}

const channelName = (id) => state.workspace.channels.find((c) => c.id === id)?.name ?? id;
const replies = (m) =>
  [...state.messages.values()].filter((r) => r.channel === m.channel && r.threadTs === m.ts);

function messageElement(m, inThread) {
  const el = document.createElement('div');
  el.className = `msg${m.ephemeral ? ' ephemeral' : ''}`;
  el.dataset.channel = m.channel;
  el.dataset.ts = m.ts;
  fillMessage(el, m, inThread);
  return el;
}

function fillMessage(el, m, inThread) {
  const count = inThread ? 0 : replies(m).length;
  const initial = m.author.name.slice(0, 1).toUpperCase();
  el.innerHTML = `
    <div class="avatar${m.author.bot ? ' bot' : ''}" aria-hidden="true">${esc(initial)}</div>
    <div class="msg-main">
      <div class="msg-meta">
        <span class="author">${esc(m.author.name)}</span>
        ${m.author.bot ? '<span class="app-tag">APP</span>' : ''}
        <time>${time(m.ts)}</time>
      </div>
      <div class="msg-body">${m.html}</div>
      ${m.ephemeral ? '<div class="ephemeral-note">👁 Only visible to you</div>' : ''}
      ${count > 0 ? `<button type="button" class="replies">${count} ${count === 1 ? 'reply' : 'replies'}</button>` : ''}
    </div>`;
}

function nearBottom(list) {
  return list.scrollHeight - list.scrollTop - list.clientHeight < 80;
}

function renderChannel() {
  $('channel-title').textContent = `# ${channelName(state.channel)}`;
  $('input').placeholder = `Message #${channelName(state.channel)}`;
  const list = $('messages');
  list.replaceChildren(
    ...[...state.messages.values()]
      .filter((m) => m.channel === state.channel && !m.threadTs)
      .map((m) => messageElement(m, false)),
  );
  list.scrollTop = list.scrollHeight;
  renderChannels();
}

/** `opened`: the reader just opened it, so show the start of the newest reply rather than its end. */
function renderThread(opened = false) {
  const pane = $('thread');
  const parent = state.thread && state.messages.get(key(state.thread.channel, state.thread.ts));
  if (!parent) {
    pane.hidden = true;
    state.thread = undefined;
    return;
  }
  pane.hidden = false;
  $('thread-channel').textContent = `# ${channelName(parent.channel)}`;
  const list = $('thread-messages');
  const follow = nearBottom(list);
  list.replaceChildren(messageElement(parent, true), ...replies(parent).map((m) => messageElement(m, true)));
  if (opened) list.lastElementChild?.scrollIntoView({ block: 'start' });
  else if (follow) list.scrollTop = list.scrollHeight;
}

function renderChannels() {
  $('channels').replaceChildren(
    ...state.workspace.channels.map((c) => {
      const li = document.createElement('li');
      const unread = state.unread.get(c.id) ?? 0;
      li.innerHTML = `<button type="button" class="channel-link${c.id === state.channel ? ' active' : ''}"
        data-channel="${esc(c.id)}"># ${esc(c.name)}${unread > 0 ? `<span class="badge">${unread}</span>` : ''}</button>`;
      return li;
    }),
  );
}

function upsert(m) {
  const isNew = !state.messages.has(key(m.channel, m.ts));
  state.messages.set(key(m.channel, m.ts), m);
  if (m.threadTs) {
    const parent = state.messages.get(key(m.channel, m.threadTs));
    if (parent) refresh(parent);
    if (state.thread && state.thread.channel === m.channel && state.thread.ts === m.threadTs) renderThread();
    return;
  }
  if (m.channel !== state.channel) {
    if (isNew) state.unread.set(m.channel, (state.unread.get(m.channel) ?? 0) + 1);
    renderChannels();
    return;
  }
  const list = $('messages');
  const follow = nearBottom(list);
  const existing = list.querySelector(`.msg[data-ts="${CSS.escape(m.ts)}"]`);
  if (existing) refresh(m);
  else list.append(messageElement(m, false));
  if (follow) list.scrollTop = list.scrollHeight;
  if (state.thread && state.thread.channel === m.channel && state.thread.ts === m.ts) renderThread();
}

/** Re-renders a message in place and flashes it, as Slack shows an edit. */
function refresh(m) {
  const el = $('messages').querySelector(`.msg[data-ts="${CSS.escape(m.ts)}"]`);
  if (!el || el.dataset.channel !== m.channel) return;
  fillMessage(el, m, false);
  el.classList.remove('updated');
  void el.offsetWidth;
  el.classList.add('updated');
}

function connect() {
  state.source?.close();
  const source = new EventSource(`/console/events?user=${encodeURIComponent(state.me)}`);
  state.source = source;
  source.addEventListener('snapshot', (e) => {
    state.messages = new Map(JSON.parse(e.data).messages.map((m) => [key(m.channel, m.ts), m]));
    state.unread.clear();
    renderChannel();
    renderThread();
    // Whose view the page shows now; a test waits for it after switching people.
    document.body.dataset.viewer = state.me;
  });
  source.addEventListener('upsert', (e) => upsert(JSON.parse(e.data)));
  source.addEventListener('remove', (e) => {
    const { channel, ts } = JSON.parse(e.data);
    state.messages.delete(key(channel, ts));
    renderChannel();
    renderThread();
  });
}

async function post(path, body) {
  const res = await fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return res.json().catch(() => ({ ok: false, error: `HTTP ${res.status}` }));
}

function confirmDialog(spec) {
  return new Promise((resolve) => {
    $('confirm-title').textContent = spec.title;
    $('confirm-text').innerHTML = spec.html;
    $('confirm-ok').textContent = spec.confirm;
    $('confirm-deny').textContent = spec.deny;
    $('confirm').hidden = false;
    const done = (ok) => {
      $('confirm').hidden = true;
      $('confirm-ok').onclick = null;
      $('confirm-deny').onclick = null;
      resolve(ok);
    };
    $('confirm-ok').onclick = () => done(true);
    $('confirm-deny').onclick = () => done(false);
  });
}

async function clickButton(button) {
  const msg = button.closest('.msg');
  if (button.dataset.confirm && !(await confirmDialog(JSON.parse(button.dataset.confirm)))) return;
  if (button.dataset.url) window.open(button.dataset.url, '_blank', 'noopener');
  button.disabled = true;
  try {
    await post('/console/click', {
      user: state.me,
      channel: msg.dataset.channel,
      ts: msg.dataset.ts,
      blockId: button.dataset.blockId,
      actionId: button.dataset.actionId,
    });
  } finally {
    button.disabled = false;
  }
}

async function runFault(button, fault) {
  button.disabled = true;
  const line = document.createElement('li');
  line.textContent = `${fault.label}…`;
  $('fault-log').prepend(line);
  try {
    const res = await post(`/console/faults/${fault.id}`, {});
    line.className = res.ok ? 'ok' : 'error';
    line.textContent = res.ok ? res.message : `${fault.label} failed: ${res.error}`;
  } finally {
    button.disabled = false;
  }
}

function setIdentity(id) {
  state.me = id;
  $('as').value = id;
  const url = new URL(location.href);
  url.searchParams.set('as', state.workspace.users.find((u) => u.id === id)?.name ?? id);
  history.replaceState(null, '', url);
  connect();
}

function setChannel(id) {
  state.channel = id;
  state.unread.delete(id);
  renderChannel();
}

async function main() {
  state.workspace = await (await fetch('/console/workspace')).json();
  const ws = state.workspace;
  $('workspace-name').textContent = ws.name;
  $('as').replaceChildren(...ws.users.map((u) => new Option(`${u.name} — ${u.role}`, u.id)));
  const params = new URLSearchParams(location.search);
  const wanted = params.get('as');
  const me = ws.users.find((u) => u.id === wanted || u.name === wanted) ?? ws.users[0];
  const wantedChannel = params.get('channel');
  state.channel = (
    ws.channels.find((c) => c.id === wantedChannel || c.name === wantedChannel) ?? ws.channels[0]
  ).id;

  $('fault-buttons').replaceChildren(
    ...ws.faults.map((f) => {
      const b = document.createElement('button');
      b.type = 'button';
      b.className = `fault${f.id === 'reset' ? ' reset' : ''}`;
      b.textContent = f.label;
      b.title = f.hint;
      b.onclick = () => runFault(b, f);
      return b;
    }),
  );
  $('as').onchange = (e) => setIdentity(e.target.value);
  $('channels').onclick = (e) => {
    const link = e.target.closest('.channel-link');
    if (link) setChannel(link.dataset.channel);
  };
  document.addEventListener('click', (e) => {
    const button = e.target.closest('.bk-button');
    if (button) return void clickButton(button);
    const repliesLink = e.target.closest('.replies');
    if (repliesLink) {
      const msg = repliesLink.closest('.msg');
      state.thread = { channel: msg.dataset.channel, ts: msg.dataset.ts };
      renderThread(true);
    }
  });
  $('thread-close').onclick = () => {
    state.thread = undefined;
    renderThread();
  };
  $('composer').onsubmit = async (e) => {
    e.preventDefault();
    const text = $('input').value.trim();
    if (!text) return;
    $('input').value = '';
    state.history.push(text);
    state.historyAt = state.history.length;
    await post('/console/command', { user: state.me, channel: state.channel, text });
  };
  $('input').onkeydown = (e) => {
    if (e.key !== 'ArrowUp' && e.key !== 'ArrowDown') return;
    state.historyAt = Math.max(
      0,
      Math.min(state.history.length, state.historyAt + (e.key === 'ArrowUp' ? -1 : 1)),
    );
    $('input').value = state.history[state.historyAt] ?? '';
    e.preventDefault();
  };
  setIdentity(me.id);
  renderChannel();
  $('input').focus();
}

main();
