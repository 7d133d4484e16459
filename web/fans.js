// Fan boards on Podium's live page: a card's "Fans" button opens that
// event's board in a dialog: its posts (newest first), a form to post, and
// live updates from a Server-Sent Events stream of that board alone.
//
// One stream of its own (/api/stream?fans=EVENT), open while the dialog is:
// the main stream (app.js) keeps running untouched, so opening or closing a
// board never interrupts the scores, and a fan only receives the board
// being read (each update carries the whole board, up to 100 posts),
// instead of every event's boards all the time (fans=* on the main stream).
//
// Posts are untrusted text: they reach the DOM through textContent only.
'use strict';

(() => {
  const MAX_TEXT = 500;       // characters (code points), as the server counts
  const REOPEN_MS = 1000;     // after the EventSource gave up (CLOSED)
  const RECHECK_MS = 1500;    // after a post, fetch the board if the stream has not brought it
  const AUTHOR_KEY = 'podium.fans.author';

  const podium = window.podium || (window.podium = { received: [] });
  const $ = (id) => document.getElementById(id);
  const int = (value) => Number(value || 0);
  const chars = (text) => [...text].length;

  const dialog = $('fans');
  const form = $('fans-form');
  const author = $('fans-author');
  const text = $('fans-text');
  const postButton = $('fans-post');
  const list = $('fans-posts');

  let open = null;          // {event, stream, version} of the board shown
  let retryTimer = null;    // the countdown after a 429
  let retryUntil = 0;       // ms epoch before which posting waits

  function el(tag, className, value) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (value !== undefined) node.textContent = String(value);
    return node;
  }

  // "menhir-put" -> "Menhir put", as the cards show it.
  function eventTitle(name) {
    const words = name.replace(/[-_]+/g, ' ').trim();
    return words.charAt(0).toUpperCase() + words.slice(1);
  }

  function whenText(micros) {
    const date = new Date(int(micros) / 1000);
    const sameDay = date.toDateString() === new Date().toDateString();
    return sameDay ? date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })
      : date.toLocaleString([], { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
  }

  function setState(state, message) {
    const node = $('fans-state');
    node.dataset.state = state;
    node.querySelector('.text').textContent = message;
  }

  function showError(message) {
    const node = $('fans-error');
    node.textContent = message || '';
    node.hidden = !message;
  }

  // ---- The board --------------------------------------------------------

  // Draws `board` (a FanBoard) if it is newer than the one shown. The list
  // is newest first; a post removed by the operator is absent from the
  // board, so it goes.
  function showBoard(board) {
    if (!open || (board.event || open.event) !== open.event) return false;
    const version = int(board.version);
    if (open.version > 0 && version <= open.version) return false;
    open.version = version;
    dialog.dataset.version = String(version);
    const items = (board.posts || []).slice().reverse().map((post) => {
      const item = el('li', 'post');
      item.dataset.id = String(int(post.id));
      const head = el('p', 'post-head');
      head.append(el('span', 'post-author', post.author || ''));
      if (post.postedUnixMicros) {
        const time = el('time', 'post-time muted', whenText(post.postedUnixMicros));
        time.dateTime = new Date(int(post.postedUnixMicros) / 1000).toISOString();
        head.append(time);
      }
      item.append(head, el('p', 'post-text', post.text || ''));
      return item;
    });
    list.replaceChildren(...items);
    $('fans-empty').hidden = items.length > 0;
    return true;
  }

  function onUpdate(message) {
    let update = null;
    try { update = JSON.parse(message.data); } catch (e) { /* recorded as not applied */ }
    const change = (update && update.change) || {};
    const board = change.fans;
    const applied = !!board && showBoard(board);
    podium.received.push({
      key: 'fans:' + ((board && board.event) || ''), version: board ? int(board.version) : 0,
      seq: int(change.seq), applied, snapshot: !!(update && update.snapshot),
      conflated: !!(update && update.conflated),
    });
  }

  // EventSource reconnects by itself (with Last-Event-ID) while CONNECTING;
  // after an HTTP error answer it is CLOSED, and a new one starts again
  // from a snapshot of the board.
  function openStream(state) {
    const stream = new EventSource('/api/stream?fans=' + encodeURIComponent(state.event));
    state.stream = stream;
    stream.onopen = () => { if (state.stream === stream) setState('live', 'Live'); };
    stream.onerror = () => {
      if (state.stream !== stream) return;
      setState('reconnecting', 'Reconnecting…');
      if (stream.readyState === EventSource.CLOSED) {
        setTimeout(() => { if (open === state && state.stream === stream) openStream(state); }, REOPEN_MS);
      }
    };
    stream.addEventListener('update', onUpdate);
  }

  // The board as it is now, straight away (the stream's snapshot follows).
  async function fetchBoard(state) {
    try {
      const response = await fetch('/api/events/' + encodeURIComponent(state.event) + '/posts',
                                   { cache: 'no-store' });
      const body = await response.json().catch(() => null);
      if (open !== state) return;
      if (!response.ok) {
        showError('Could not load the board: ' + ((body && body.error) || 'HTTP ' + response.status));
        return;
      }
      if (body) showBoard(body);
    } catch (err) {
      if (open === state) showError('Could not load the board (network error); waiting for the live feed.');
    }
  }

  function openBoard(event) {
    if (open && open.event === event) return;
    closeStream();
    const state = { event, stream: null, version: 0 };
    open = state;
    dialog.dataset.event = event;
    dialog.dataset.version = '0';
    $('fans-title').textContent = 'Fans · ' + eventTitle(event);
    list.replaceChildren();
    $('fans-empty').hidden = true;
    showError('');
    setState('connecting', 'Connecting…');
    if (!dialog.open) dialog.showModal();
    (author.value ? text : author).focus();
    openStream(state);
    fetchBoard(state);
  }

  function closeStream() {
    if (open && open.stream) open.stream.close();
    open = null;
  }

  // ---- Posting ----------------------------------------------------------

  function updateForm() {
    const count = chars(text.value);
    const counter = $('fans-count');
    counter.textContent = count + '/' + MAX_TEXT;
    counter.classList.toggle('over', count > MAX_TEXT);
    const waiting = Date.now() < retryUntil;
    postButton.disabled = waiting || !author.value.trim() || !text.value.trim() || count > MAX_TEXT;
  }

  // 429: the server says how long to wait (Retry-After, seconds); the
  // button stays off until then, counting down.
  function waitToRetry(seconds) {
    retryUntil = Date.now() + seconds * 1000;
    clearInterval(retryTimer);
    const tick = () => {
      const left = Math.ceil((retryUntil - Date.now()) / 1000);
      if (left <= 0) {
        clearInterval(retryTimer);
        showError('');
      } else {
        showError('Too many posts: try again in ' + left + (left === 1 ? ' second.' : ' seconds.'));
      }
      updateForm();
    };
    tick();
    retryTimer = setInterval(tick, 1000);
  }

  async function post(event) {
    event.preventDefault();
    updateForm();
    if (!open || postButton.disabled) return;
    const state = open;
    postButton.disabled = true;
    showError('');
    try {
      localStorage.setItem(AUTHOR_KEY, author.value);
    } catch (e) { /* private mode: the name is not remembered */ }
    let response = null;
    let body = null;
    try {
      response = await fetch('/api/events/' + encodeURIComponent(state.event) + '/posts', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ author: author.value.trim(), text: text.value }),
      });
      body = await response.json().catch(() => null);
    } catch (err) {
      showError('Could not post: the server cannot be reached. Try again.');
      updateForm();
      return;
    }
    const message = (body && body.error) || '';
    if (response.status === 201) {
      text.value = '';
      const seq = int(body && body.seq);
      // The stream brings the new board; should it be down, fetch it.
      setTimeout(() => { if (open === state && state.version < seq) fetchBoard(state); }, RECHECK_MS);
    } else if (response.status === 429) {
      const seconds = parseInt(response.headers.get('Retry-After') || '', 10);
      waitToRetry(seconds > 0 ? seconds : 5);
    } else if (response.status === 400) {
      showError(message || 'The server refused this post.');
    } else if (response.status === 413) {
      showError('That post is too long.');
    } else if (response.status === 503) {
      showError('Posting is unavailable right now (' + (message || 'scores service unreachable') + '). Try again soon.');
    } else {
      showError('Could not post: ' + (message || 'HTTP ' + response.status));
    }
    updateForm();
    if (response.status === 201) text.focus();
  }

  // ---- Wiring -----------------------------------------------------------

  try { author.value = localStorage.getItem(AUTHOR_KEY) || ''; } catch (e) { /* none */ }
  // A click on a card opens its board (not one that ends a text selection);
  // its Fans button does too, from the keyboard as well.
  $('events').addEventListener('click', (click) => {
    const button = click.target.closest('button.fans-open');
    if (button) return openBoard(button.dataset.event || '');
    const card = click.target.closest('.card[data-key^="event:"]');
    if (card && !String(window.getSelection() || '')) openBoard(card.dataset.key.slice('event:'.length));
  });
  // The stream ends with the dialog, however it closes: the button, a
  // click beside it, or Escape (then the close event).
  function closeBoard() {
    closeStream();
    delete dialog.dataset.event;
    if (dialog.open) dialog.close();
  }
  $('fans-close').addEventListener('click', closeBoard);
  dialog.addEventListener('close', closeBoard);
  dialog.addEventListener('click', (click) => {
    if (click.target !== dialog) return;
    const box = dialog.getBoundingClientRect();
    const inside = click.clientX >= box.left && click.clientX <= box.right &&
      click.clientY >= box.top && click.clientY <= box.bottom;
    if (!inside) closeBoard();
  });
  form.addEventListener('submit', post);
  author.addEventListener('input', updateForm);
  text.addEventListener('input', updateForm);
  text.addEventListener('keydown', (key) => {
    if (key.key === 'Enter' && (key.ctrlKey || key.metaKey)) form.requestSubmit();
  });
  updateForm();

  // For tests: the posts shown for `event`, top to bottom (newest first);
  // none when its board is not the one open.
  podium.posts = (event) => (open && open.event === event ? [...list.children] : []).map((item) => ({
    id: Number(item.dataset.id),
    author: item.querySelector('.post-author').textContent,
    text: item.querySelector('.post-text').textContent,
  }));
  podium.openFans = openBoard;
})();
