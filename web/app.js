// Podium's live page: the whole board once from /api/board, then every
// change from the Server-Sent Events stream /api/stream (frontend HTTP plane).
//
// Names, reasons and every other value are untrusted text: they reach the
// DOM through textContent and createElement only, never innerHTML.
'use strict';

(() => {
  // ODF status names as shown. SCHEDULED and FINAL are the enum's aliases
  // of START_LIST and OFFICIAL.
  const STATUS_TEXT = {
    START_LIST: 'Start list', LIVE: 'Live', INTERMEDIATE: 'Intermediate',
    UNCONFIRMED: 'Unconfirmed', UNOFFICIAL: 'Unofficial', OFFICIAL: 'Official',
    PROTESTED: 'Protested',
  };
  const STATUS_ALIAS = { SCHEDULED: 'START_LIST', FINAL: 'OFFICIAL' };
  // The enum by number (a JSON parser accepts numbers for enums too).
  const STATUS_BY_NUMBER = [
    '', 'START_LIST', 'LIVE', 'OFFICIAL', 'INTERMEDIATE', 'UNCONFIRMED', 'UNOFFICIAL', 'PROTESTED',
  ];
  const MARK_TEXT = { MARK_TIME: 'time', MARK_DISTANCE: 'distance', MARK_RANK: 'placing' };
  const REOPEN_MS = 1000;     // after the EventSource gave up (CLOSED)
  const HIGHLIGHT_MS = 700;   // a changed card stays lit this long, then fades

  const teamNames = new Map();     // team code -> display name
  const eventMarks = new Map();    // event name -> MarkKind name
  const eventCards = new Map();    // event name -> <article>
  const tallies = new Map();       // team code -> {team, gold, silver, bronze}
  const medalRows = new Map();     // team code -> <tr>
  const shownVersions = new Map(); // "event:NAME" | "team:CODE" -> version shown
  const highlightTimers = new WeakMap();
  let source = null;               // the live EventSource

  // For tests and the curious: what arrived, and what is on screen.
  const podium = {
    received: [], // {key, version, seq, applied, snapshot, conflated}, in arrival order
    connected: false,
    lastSeq: 0,   // highest seq seen: the board's, then the stream's
    shown: (key) => shownVersions.get(key) || 0,
  };
  window.podium = podium;

  const $ = (id) => document.getElementById(id);
  // Protobuf JSON: int64 fields are strings and default values are omitted.
  const int = (value) => Number(value || 0);

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = String(text);
    return node;
  }

  const teamName = (code) => teamNames.get(code) || code || '?';

  // "menhir-put" -> "Menhir put"; the games give events no display name.
  function eventTitle(name) {
    const words = name.replace(/[-_]+/g, ' ').trim();
    return words.charAt(0).toUpperCase() + words.slice(1);
  }

  function statusCode(status) {
    const code = typeof status === 'number' ? STATUS_BY_NUMBER[status] || '' : status || '';
    return STATUS_ALIAS[code] || (code === 'EVENT_STATUS_UNSPECIFIED' ? '' : code);
  }

  function timeText(micros) {
    const ms = int(micros) / 1000;
    return ms > 0 ? new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' }) : '';
  }

  // Lights `node` at once, then lets the CSS transition fade it out.
  function highlight(node) {
    clearTimeout(highlightTimers.get(node));
    node.classList.add('changed');
    highlightTimers.set(node, setTimeout(() => node.classList.remove('changed'), HIGHLIGHT_MS));
  }

  // ---- Events -----------------------------------------------------------

  // Draws `score` (an EventScore) into its card, made on first sight; a
  // card's element stays, its body is redrawn whole.
  function showEvent(score, reason, changed) {
    const name = score.event || '';
    const key = 'event:' + name;
    let card = eventCards.get(name);
    if (!card) {
      // Its body is redrawn whole on each change; the footer, with the
      // button that opens the event's fan board (web/fans.js), stays, so
      // that a change never takes the keyboard focus off the button.
      card = el('article', 'card');
      card.dataset.key = key;
      const fans = el('button', 'fans-open', 'Fans');
      fans.type = 'button';
      fans.dataset.event = name;
      fans.setAttribute('aria-label', 'Fans of ' + eventTitle(name));
      const foot = el('footer', 'card-foot');
      foot.append(el('span', 'meta muted'), fans);
      card.append(el('div', 'card-body'), foot);
      eventCards.set(name, card);
      $('events').append(card);
    }
    const version = int(score.version);
    shownVersions.set(key, version);
    card.dataset.version = String(version);

    const head = el('header', 'card-head');
    head.append(el('h3', 'event-name', eventTitle(name)));
    head.firstChild.title = name;
    const code = statusCode(score.status);
    card.dataset.status = code;
    if (code) {
      const known = Object.prototype.hasOwnProperty.call(STATUS_TEXT, code);
      head.append(el('span', 'status' + (known ? ' status-' + code.toLowerCase() : ''),
                     known ? STATUS_TEXT[code] : code));
    }

    const points = score.points || [];
    const list = el('ul', 'scores');
    for (const entry of points) {
      const row = el('li');
      row.dataset.team = entry.team || '';
      // Points are shown as sent: int64 strings keep every digit.
      row.append(el('span', 'team', teamName(entry.team)), el('span', 'points', entry.points || '0'));
      list.append(row);
    }
    const parts = [head, points.length ? list : el('p', 'muted', 'No results yet')];
    // The reason belongs to the change that carried it (a correction); the
    // next change without one clears it.
    if (reason) parts.push(el('p', 'reason', reason));

    const meta = card.lastChild.firstChild;
    const mark = MARK_TEXT[eventMarks.get(name)] || 'points';
    const when = timeText(score.updatedUnixMicros);
    meta.textContent = when ? mark + ' · updated ' + when : mark;
    if (score.unverified) meta.append(' ', el('span', 'unverified', 'unverified'));

    card.firstChild.replaceChildren(...parts);
    if (changed) highlight(card);
  }

  // ---- Medal table ------------------------------------------------------

  function showTally(tally, reason, changed) {
    const code = tally.team || '';
    const key = 'team:' + code;
    const counts = { team: code, gold: int(tally.gold), silver: int(tally.silver), bronze: int(tally.bronze) };
    tallies.set(code, counts);
    let row = medalRows.get(code);
    if (!row) {
      row = el('tr');
      row.dataset.key = key;
      for (const cls of ['rank', 'team', 'num gold', 'num silver', 'num bronze', 'num total']) {
        row.append(el('td', cls));
      }
      medalRows.set(code, row);
    }
    const version = int(tally.version);
    shownVersions.set(key, version);
    row.dataset.version = String(version);
    const cells = row.cells;
    cells[1].replaceChildren(el('span', 'team-name', teamName(code)));
    if (reason) cells[1].append(el('span', 'reason', reason));
    if (tally.unverified) cells[1].append(el('span', 'unverified', 'unverified'));
    cells[2].textContent = counts.gold;
    cells[3].textContent = counts.silver;
    cells[4].textContent = counts.bronze;
    cells[5].textContent = counts.gold + counts.silver + counts.bronze;
    if (changed) highlight(row);
  }

  const sameCounts = (a, b) => a.gold === b.gold && a.silver === b.silver && a.bronze === b.bronze;

  // Ranks every tally as the frontend does (common/standings.cc): gold,
  // silver, bronze, most first; equal counts share a rank and the next
  // rank skips (1, 2, 2, 4); within a rank by team code. Teams without a
  // medal stay in the DOM (tests read their versions) but are hidden.
  function rankMedals() {
    const order = [...tallies.values()].sort((a, b) =>
      b.gold - a.gold || b.silver - a.silver || b.bronze - a.bronze ||
      (a.team < b.team ? -1 : a.team > b.team ? 1 : 0));
    const body = $('medal-rows');
    let rank = 0;
    let without = 0;
    order.forEach((tally, i) => {
      if (i === 0 || !sameCounts(tally, order[i - 1])) rank = i + 1;
      const row = medalRows.get(tally.team);
      row.cells[0].textContent = rank;
      row.dataset.rank = String(rank);
      row.hidden = tally.gold + tally.silver + tally.bronze === 0;
      if (row.hidden) without++;
      // Move a row only when out of place: moving restarts its highlight.
      if (body.children[i] !== row) body.insertBefore(row, body.children[i] || null);
    });
    $('medal-note').textContent = without === order.length ? 'No medals awarded yet.'
      : without ? without + (without === 1 ? ' team' : ' teams') + ' without a medal yet.' : '';
  }

  // ---- Connection -------------------------------------------------------

  function setConnected(connected, text) {
    podium.connected = connected;
    const banner = $('connection');
    banner.dataset.state = connected ? 'live' : 'reconnecting';
    banner.querySelector('.text').textContent = text || (connected ? 'Live' : 'Reconnecting…');
  }

  function notice(text) {
    const node = $('notice');
    node.textContent = text;
    node.hidden = !text;
  }

  function onUpdate(message) {
    let update = null;
    try { update = JSON.parse(message.data); } catch (e) { /* recorded below as not applied */ }
    const change = (update && update.change) || {};
    const value = change.event || change.medals;
    const key = change.event ? 'event:' + (change.event.event || '')
      : change.medals ? 'team:' + (change.medals.team || '') : '';
    const version = value ? int(value.version) : 0;
    const seq = int(change.seq);
    // Versions only go up; a replayed or older value is ignored (monotonic).
    const applied = !!value && version > podium.shown(key);
    podium.received.push({
      key, version, seq, applied, snapshot: !!(update && update.snapshot), conflated: !!(update && update.conflated),
    });
    if (seq > podium.lastSeq) podium.lastSeq = seq;
    if (!applied) return;
    if (change.event) {
      showEvent(change.event, change.reason || '', true);
    } else {
      showTally(change.medals, change.reason || '', true);
      rankMedals();
    }
  }

  // EventSource reconnects by itself (sending Last-Event-ID, which the
  // server prefers to after_seq) while it is CONNECTING; it gives up
  // (CLOSED) on an HTTP error answer, e.g. a proxy's 503 with no frontend
  // up. Only then is a new one opened, from the highest seq seen.
  function openStream(afterSeq) {
    const stream = new EventSource('/api/stream?events=*&medals=1&after_seq=' + afterSeq);
    source = stream;
    stream.onopen = () => setConnected(true);
    stream.onerror = () => {
      if (stream !== source) return;
      setConnected(false);
      if (stream.readyState === EventSource.CLOSED) {
        setTimeout(() => { if (stream === source) openStream(podium.lastSeq); }, REOPEN_MS);
      }
    };
    stream.addEventListener('update', onUpdate);
  }

  // ---- Start ------------------------------------------------------------

  function showBoard(board) {
    const games = board.games || {};
    for (const team of games.teams || []) teamNames.set(team.code, team.name || team.code);
    for (const info of games.events || []) eventMarks.set(info.event, info.mark || '');

    // Cards in the games file's order; an event without a value yet still
    // gets its (empty) card.
    const scores = new Map((board.events || []).map((score) => [score.event || '', score]));
    for (const info of games.events || []) showEvent(scores.get(info.event) || { event: info.event }, '', false);
    for (const [name, score] of scores) if (!eventCards.has(name)) showEvent(score, '', false);

    for (const tally of board.medals || []) showTally(tally, '', false);
    rankMedals();
    podium.lastSeq = int(board.seq);
    notice(board.unverified ? 'Some values come from a cache while the scores service is unreachable; they may be behind.' : '');
  }

  async function start() {
    for (let delay = 1000; ; delay = Math.min(delay * 2, 10000)) {
      try {
        const response = await fetch('/api/board', { cache: 'no-store' });
        const body = await response.json().catch(() => null);
        if (!response.ok || !body) throw new Error((body && body.error) || 'HTTP ' + response.status);
        showBoard(body);
        openStream(podium.lastSeq);
        return;
      } catch (err) {
        setConnected(false);
        notice('Could not load the scores (' + err.message + '); trying again.');
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  start();
})();
