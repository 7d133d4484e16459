// The live page in a real browser (issue 15 item 5): Debian's Chromium,
// headless, driven by playwright-core, against HAProxy in front of three
// push-mode frontends. Started by tests/browser/run.sh, which starts the
// processes and passes them in the environment:
//
//   PODIUM_URL               HAProxy, http://127.0.0.1:PORT
//   PODIUM_FRONTENDS_HTTP    each frontend's HTTP plane, host:port,...
//   PODIUM_FRONTEND_PIDS     their pids, in the same order
//   PODIUM_BARD, PODIUM_BACKEND, PODIUM_WRITE_TOKEN_FILE
//   PODIUM_CHROMIUM          the browser (/usr/bin/chromium)
//   PODIUM_SCREENSHOT        where the desktop screenshot goes
//   PODIUM_SCREENSHOT_COPY   a second copy (e.g. docs/img/live-page.png), optional
//   PODIUM_ARTIFACTS         a folder for screenshots taken on failure
//
// Every wait polls against a deadline; nothing sleeps and hopes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { chromium } from 'playwright-core';

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run this through tests/browser/run.sh`);
  return value;
};
const URL = env('PODIUM_URL');
const FRONTENDS = env('PODIUM_FRONTENDS_HTTP').split(',');
const FRONTEND_PIDS = env('PODIUM_FRONTEND_PIDS').split(',').map(Number);
const BARD = env('PODIUM_BARD');
const BACKEND = env('PODIUM_BACKEND');
const TOKEN_FILE = env('PODIUM_WRITE_TOKEN_FILE');
const WRITE_TOKEN = readFileSync(TOKEN_FILE, 'utf8').split('\n')[0].trim();
const ARTIFACTS = process.env.PODIUM_ARTIFACTS || '.';

// The built-in games (backend/games.cc).
const DEFAULT_EVENTS = ['menhir-put', 'boar-hunt', 'chariot-race', 'javelin', 'wrestling', '100m'];
const DEFAULT_TEAMS = ['Gauls', 'Romans', 'Britons', 'Egyptians'];
const FRESH_MS = 1000;          // issue 15: a write is on the page within a second
const LAUNCH_ARGS = [
  // Chromium runs as root here; and no network but loopback.
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--disable-dev-shm-usage',
];

const now = () => performance.timeOrigin + performance.now(); // ms since the epoch
const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Polls `probe` (async; a truthy result ends the wait) every `every` ms
// until `ms` have passed; then fails with `what` and the last value seen.
// `detail` (optional) says, on failure, what was seen.
async function until(what, probe, { ms = 5000, every = 50, detail = null } = {}) {
  const deadline = Date.now() + ms;
  for (;;) {
    const result = await probe();
    if (result) return result;
    if (Date.now() > deadline) assert.fail(`${what}: not within ${ms} ms` + (detail ? ` (${await detail()})` : ''));
    await pause(every);
  }
}

// Runs the real bard; resolves with its JSON reply and the moment it exited.
function bard(...args) {
  return new Promise((resolve, reject) => {
    const child = spawn(BARD, [`--backend=${BACKEND}`, `--write_token_file=${TOKEN_FILE}`, '--json', ...args]);
    let out = '';
    let err = '';
    const startedAt = now();
    let exitedAt = 0;
    let code = null;
    child.stdout.on('data', (chunk) => { out += chunk; });
    child.stderr.on('data', (chunk) => { err += chunk; });
    child.on('exit', (status) => { exitedAt = now(); code = status; });
    child.on('error', reject);
    child.on('close', () => {
      if (code !== 0) {
        reject(new Error(`podium-bard ${args.join(' ')} exited ${code}: ${err.trim() || out.trim()}`));
        return;
      }
      const reply = JSON.parse(out.trim().split('\n').pop());
      const value = reply.event || reply.medals || {};
      resolve({ seq: Number(reply.seq), version: Number(value.version), startedAt, exitedAt, reply });
    });
  });
}

// Every frontend's podium_sse_streams gauge, read on its own HTTP port
// (-1 for a frontend that does not answer).
async function sseStreams() {
  return Promise.all(FRONTENDS.map(async (address) => {
    try {
      const response = await fetch(`http://${address}/metrics`, { signal: AbortSignal.timeout(1000) });
      const match = /^podium_sse_streams (\d+)$/m.exec(await response.text());
      return match ? Number(match[1]) : -1;
    } catch (e) {
      return -1;
    }
  }));
}

const total = (streams) => streams.reduce((sum, n) => sum + Math.max(n, 0), 0);

// Waits until the frontends' stream gauges satisfy `predicate`; returns them.
async function streamsUntil(what, predicate, ms = 5000) {
  let last = [];
  await until(what, async () => predicate(last = await sseStreams()), {
    ms, detail: () => `podium_sse_streams of each frontend: ${last.join(', ')} (-1: no answer)`,
  });
  return last;
}

// Records, in the page, every data-version change (with when) and every
// state of #connection, from the first moment of the document.
function recorder() {
  // Every EventSource the page makes, to see which are open.
  const Native = window.EventSource;
  window.__sources = [];
  window.EventSource = class extends Native {
    constructor(...args) {
      super(...args);
      window.__sources.push(this);
    }
  };
  window.__versions = [];
  window.__states = [];
  const at = () => performance.timeOrigin + performance.now();
  new MutationObserver((records) => {
    const t = at();
    for (const record of records) {
      const node = record.target;
      if (record.attributeName === 'data-version' && node.dataset.key) {
        window.__versions.push({ key: node.dataset.key, version: Number(node.dataset.version), at: t });
      } else if (record.attributeName === 'data-state' && node.id === 'connection') {
        // oldValue: records are delivered in batches, the current value
        // may already be a later one.
        window.__states.push({ from: record.oldValue, to: null, at: t });
      }
    }
    // Each record's new state is the next one's old state (or the current).
    const states = window.__states;
    for (let i = 0; i < states.length; i++) {
      if (states[i].to === null) {
        states[i].to = i + 1 < states.length ? states[i + 1].from : document.getElementById('connection').dataset.state;
      }
    }
  }).observe(document, {
    subtree: true, attributes: true, attributeOldValue: true, attributeFilter: ['data-version', 'data-state'],
  });
}

let browser;
let page;                 // the desktop page every test uses
const dialogs = [];       // alert()s and the like, in any page: an injection ran
const pageErrors = [];    // uncaught exceptions in the page's scripts

async function newPage(options = {}, base = URL) {
  const context = await browser.newContext(options);
  const p = await context.newPage();
  p.on('dialog', (dialog) => { dialogs.push(`${dialog.type()}: ${dialog.message()}`); dialog.dismiss().catch(() => {}); });
  p.on('pageerror', (error) => pageErrors.push(String(error)));
  await p.addInitScript(recorder);
  await p.goto(base + '/');
  await until('the page shows #connection live', () => p.locator('#connection[data-state="live"]').count());
  return p;
}

async function shownVersion(p, key) {
  return p.evaluate((k) => Number(document.querySelector(`[data-key="${k}"]`)?.dataset.version || 0), key);
}

// Waits until the page shows `key` at `version` or later; returns how long
// after `since` (ms since the epoch) the DOM got there (0 when before).
async function freshness(p, key, version, since) {
  await until(`${key} reaching version ${version} on the page`,
              async () => (await shownVersion(p, key)) >= version, { ms: 5000, every: 20 });
  const at = await p.evaluate(([k, v]) => {
    const hit = window.__versions.find((entry) => entry.key === k && entry.version >= v);
    return hit ? hit.at : null;
  }, [key, version]);
  assert.ok(at !== null, `no data-version change of ${key} to ${version} was recorded`);
  return Math.max(0, at - since);
}

before(async () => {
  browser = await chromium.launch({ executablePath: env('PODIUM_CHROMIUM'), args: LAUNCH_ARGS, headless: true });
  page = await newPage({ viewport: { width: 1280, height: 860 } });
});

after(async () => {
  if (browser) await browser.close();
});

// On a failed check, the page as it was, for the log.
async function snapshotOnFailure(name, body) {
  try {
    await body();
  } catch (error) {
    mkdirSync(ARTIFACTS, { recursive: true });
    const file = join(ARTIFACTS, `failed-${name}.png`);
    await page?.screenshot({ path: file, fullPage: true }).catch(() => {});
    error.message += `\n(screenshot of the page: ${file})`;
    throw error;
  }
}

test('1. the page shows the board: every event card and the medal table', () => snapshotOnFailure('board', async () => {
  const board = await (await fetch(URL + '/api/board')).json();
  const events = (board.games?.events || []).map((info) => info.event);
  assert.deepEqual([...events].sort(), [...DEFAULT_EVENTS].sort(), 'the backend runs the built-in games');
  const cards = await page.$$eval('#events [data-key^="event:"]', (nodes) => nodes.map((n) => n.dataset.key));
  assert.deepEqual(cards, events.map((e) => 'event:' + e), 'a card for every event, in the games order');
  for (const event of events) {
    const card = page.locator(`[data-key="event:${event}"]`);
    assert.ok(await card.isVisible(), `the card of ${event} is visible`);
    assert.ok(await card.locator('button.fans-open').isVisible(), `the card of ${event} has a Fans button`);
  }
  assert.ok(await page.locator('#medal-table').isVisible(), 'the medal table is visible');
  const heads = await page.$$eval('#medal-table thead th', (nodes) => nodes.map((n) => n.textContent.trim()));
  assert.deepEqual(heads, ['#', 'Team', 'Gold', 'Silver', 'Bronze', 'Total'], 'the medal table\'s columns');
  const rows = await page.$$eval('#medal-rows tr', (nodes) => nodes.map((n) => n.dataset.key));
  assert.deepEqual([...rows].sort(), DEFAULT_TEAMS.map((t) => 'team:' + t).sort(), 'a medal row for every team');
  console.log(`# board: ${cards.length} event cards, ${rows.length} teams in the medal table`);
}));

test('2. bard writes appear on the page within a second', () => snapshotOnFailure('fresh', async () => {
  const writes = [
    ['event:javelin', ['set-score', 'javelin', 'Gauls=12', 'Romans=9', '--status=LIVE']],
    ['event:menhir-put', ['set-score', 'menhir-put', 'Gauls=31', 'Britons=28', 'Egyptians=19', '--status=LIVE']],
    ['event:javelin', ['set-score', 'javelin', 'Gauls=14', 'Romans=15', 'Britons=11', '--status=LIVE']],
    ['event:chariot-race', ['set-score', 'chariot-race', 'Romans=3', 'Egyptians=1', '--status=LIVE']],
    ['event:javelin', ['set-score', 'javelin', 'Gauls=17', 'Romans=15', 'Britons=11', '--status=OFFICIAL']],
    ['team:Gauls', ['award', 'Gauls', 'gold', '--event=javelin']],
    ['team:Romans', ['award', 'Romans', 'silver', '--event=javelin']],
    ['team:Britons', ['award', 'Britons', 'bronze', '--event=javelin']],
    ['event:menhir-put', ['set-score', 'menhir-put', 'Gauls=33', 'Britons=35', 'Egyptians=19', '--status=OFFICIAL']],
    ['team:Britons', ['award', 'Britons', 'gold', '--event=menhir-put']],
    ['team:Gauls', ['award', 'Gauls', 'silver', '--event=menhir-put']],
    ['team:Egyptians', ['award', 'Egyptians', 'bronze', '--event=menhir-put']],
  ];
  const measured = [];   // bard exit -> DOM: the requirement
  const fromStart = [];  // bard start -> DOM: with the bard's own start-up and write
  for (const [key, args] of writes) {
    const write = await bard(...args);
    assert.equal(write.version, write.seq, `the bard's reply to ${args.join(' ')}: version is the seq`);
    const ms = await freshness(page, key, write.seq, write.exitedAt);
    measured.push(ms);
    fromStart.push(await freshness(page, key, write.seq, write.startedAt));
    assert.ok(ms < FRESH_MS, `${args.join(' ')} (seq ${write.seq}) reached the page ${ms.toFixed(1)} ms after the bard exited: over ${FRESH_MS} ms`);
  }
  console.log(`# freshness, bard exit -> DOM data-version, ${measured.length} writes: ` +
              `max ${Math.max(...measured).toFixed(1)} ms, each: ${measured.map((ms) => ms.toFixed(1)).join(' ')} ` +
              `(0: on the page before the bard had exited); bard start -> DOM: max ${Math.max(...fromStart).toFixed(1)} ms`);

  // The medal table, ranked gold, then silver, then bronze.
  const table = await page.$$eval('#medal-rows tr:not([hidden])', (nodes) => nodes.map((n) =>
    [n.dataset.key, ...[...n.cells].filter((cell) => !cell.classList.contains('team')).map((cell) => cell.textContent)].join(' ')));
  assert.deepEqual(table, [
    'team:Gauls 1 1 1 0 2',
    'team:Britons 2 1 0 1 2',
    'team:Romans 3 0 1 0 1',
    'team:Egyptians 4 0 0 1 1',
  ], 'the medal table (key rank gold silver bronze total), ranked');
  const javelin = await page.locator('[data-key="event:javelin"]').innerText();
  assert.match(javelin, /official/i, 'javelin shows its OFFICIAL status');
  assert.match(javelin, /17/, 'javelin shows the Gauls\' 17 points');

  const shot = env('PODIUM_SCREENSHOT');
  mkdirSync(dirname(shot), { recursive: true });
  // Without the fading highlights (reduced motion ends them at once), and
  // no taller than the page's content.
  await page.emulateMedia({ reducedMotion: 'reduce' });
  await page.evaluate(() => window.scrollTo(0, 0));
  await until('the highlights of the last changes end', async () => !(await page.locator('.changed').count()),
              { ms: 3000 });
  const height = await page.evaluate(() => Math.ceil(document.querySelector("main").getBoundingClientRect().bottom) + 8);
  await page.screenshot({ path: shot, clip: { x: 0, y: 0, width: 1280, height: Math.min(height, 860) } });
  await page.emulateMedia({ reducedMotion: null });
  if (process.env.PODIUM_SCREENSHOT_COPY) {
    mkdirSync(dirname(process.env.PODIUM_SCREENSHOT_COPY), { recursive: true });
    copyFileSync(shot, process.env.PODIUM_SCREENSHOT_COPY);
  }
  console.log(`# screenshot: ${shot}${process.env.PODIUM_SCREENSHOT_COPY ? ' and ' + process.env.PODIUM_SCREENSHOT_COPY : ''}`);
}));

// ---- Failover -------------------------------------------------------------

// Before any other browser opens a stream: the page's stream is then the
// only one, and its frontend the one whose podium_sse_streams is 1. (A
// stream whose browser went away may stay counted until its next event or
// keep-alive: HAProxy without `option abortonclose` closes its side to
// the frontend only when it next writes to the browser.)
test('3. failover: the page\'s frontend is SIGKILLed; every version still arrives, in order', () => snapshotOnFailure('failover', async () => {
  const streams = await streamsUntil('exactly one Server-Sent Events stream open, the page\'s',
                                     (s) => total(s) === 1);
  const victim = streams.indexOf(1);
  const killedAt = now();
  process.kill(FRONTEND_PIDS[victim], 'SIGKILL');
  const seqs = [];
  for (let i = 1; i <= 20; i++) {
    const write = await bard('set-score', 'boar-hunt', `Gauls=${i}`, `Romans=${2 * i}`, `Egyptians=${i % 7}`, '--status=LIVE');
    seqs.push(write.seq);
  }
  const wroteMs = now() - killedAt;
  const last = seqs[seqs.length - 1];
  await until(`the page shows boar-hunt at version ${last}`, async () =>
    (await shownVersion(page, 'event:boar-hunt')) >= last, { ms: 15000, every: 50 });
  const caughtUpMs = now() - killedAt;

  const received = await page.evaluate(() => window.podium.received.filter((r) => r.key === 'event:boar-hunt'));
  const got = received.filter((r) => seqs.includes(r.version));
  assert.deepEqual(got.map((r) => r.version), seqs,
                   `every version of boar-hunt the bard wrote, once each and in order (received: ${JSON.stringify(received)})`);
  assert.ok(got.every((r) => r.applied && !r.conflated), `each applied, none conflated: ${JSON.stringify(got)}`);
  const versions = received.filter((r) => r.applied).map((r) => r.version);
  assert.ok(versions.every((v, i) => i === 0 || v > versions[i - 1]), `applied versions only go up: ${versions}`);

  const states = await page.evaluate(() => window.__states);
  const afterKill = states.filter((s) => s.at >= killedAt);
  const left = afterKill.findIndex((s) => s.from === 'live' && s.to === 'reconnecting');
  assert.ok(left >= 0, `#connection went to reconnecting after the kill: ${JSON.stringify(afterKill)}`);
  const back = afterKill.findIndex((s, i) => i > left && s.from === 'reconnecting' && s.to === 'live');
  assert.ok(back > left, `#connection came back to live: ${JSON.stringify(afterKill)}`);
  assert.equal(await page.getAttribute('#connection', 'data-state'), 'live', '#connection is live at the end');
  const after = await sseStreams();
  assert.equal(after[victim], -1, 'the killed frontend is gone');
  assert.equal(total(after), 1, `the page's stream is on a survivor: ${after}`);
  console.log(`# failover: killed frontend-${victim + 1} (pid ${FRONTEND_PIDS[victim]}); ` +
              `reconnecting for ${(afterKill[back].at - afterKill[left].at).toFixed(0)} ms; ` +
              `20 writes in ${wroteMs.toFixed(0)} ms, all ${seqs.length} versions (seq ${seqs[0]}..${last}) ` +
              `received in order, caught up ${caughtUpMs.toFixed(0)} ms after the kill; now on frontend-${after.indexOf(1) + 1}`);
}));

// ---- Fan boards -----------------------------------------------------------

// Opens an event's fan board with its card's Fans button, or with a click
// on the card (its title).
async function openFans(p, event, { via = 'button' } = {}) {
  const card = p.locator(`[data-key="event:${event}"]`);
  await (via === 'button' ? card.locator('button.fans-open') : card.locator('.event-name')).click();
  await until(`the fan board of ${event} opens`, () => p.locator(`#fans[open][data-event="${event}"]`).count());
  await until(`the fan board of ${event} is live`, () => p.locator('#fans-state[data-state="live"]').count());
}

// The page's EventSources not closed whose URL contains `part`.
const openSources = (p, part) => p.evaluate((text) =>
  window.__sources.filter((source) => source.url.includes(text) && source.readyState !== EventSource.CLOSED).length, part);

const shownPosts = (p, event) => p.evaluate((e) => window.podium.posts(e), event);

// Posts through the page's form; answers the POST's status and body. A 429
// (the frontends rate-limit per address and per author) is waited out as
// the page says (Retry-After), at most twice.
async function postVia(p, author, text, { retry = true } = {}) {
  for (let attempt = 0; ; attempt++) {
    await p.fill('#fans-author', author);
    await p.fill('#fans-text', text);
    await until('the Post button is enabled', () => p.locator('#fans-post:enabled').count());
    const [response] = await Promise.all([
      p.waitForResponse((r) => r.request().method() === 'POST' && /\/posts$/.test(new globalThis.URL(r.url()).pathname)),
      p.click('#fans-post'),
    ]);
    const body = await response.json().catch(() => null);
    if (response.status() !== 429 || !retry || attempt >= 2) return { status: response.status(), body, headers: response.headers() };
    const seconds = Number(response.headers()['retry-after'] || 1);
    console.log(`# 429 for ${author}: retrying after ${seconds} s, as Retry-After says`);
    await until('the page lets posting again after Retry-After', () => p.locator('#fans-post:enabled').count(),
                { ms: seconds * 1000 + 3000, every: 200 });
  }
}

test('4. fan boards: posts reach other browsers, removals vanish, text stays text', async () => {
  await snapshotOnFailure('fans', async () => {
    const other = await newPage({ viewport: { width: 1100, height: 800 } });
    try {
      await openFans(page, 'javelin');
      await openFans(other, 'javelin', { via: 'card' });

      // The counter: 500 characters at most.
      await page.fill('#fans-author', 'Asterix');
      await page.fill('#fans-text', 'x'.repeat(501));
      assert.equal(await page.textContent('#fans-count'), '501/500', 'the counter shows 501/500');
      assert.ok(await page.locator('#fans-post:disabled').count(), 'Post is off over 500 characters');
      await page.fill('#fans-text', 'é'.repeat(500));
      assert.equal(await page.textContent('#fans-count'), '500/500', 'the counter counts characters');
      assert.ok(await page.locator('#fans-post:enabled').count(), 'Post is on at 500 characters');

      // A post from one browser appears in the other.
      const hello = `Allez les Gaulois ! (${process.pid})`;
      const sent = await postVia(page, 'Asterix', hello);
      assert.equal(sent.status, 201, `POST answered ${sent.status}: ${JSON.stringify(sent.body)}`);
      const id = Number(sent.body.post.id);
      assert.equal(id, Number(sent.body.seq), 'a post\'s id is its seq');
      const postedAt = now();
      await until('the post appears in the other browser', async () =>
        (await shownPosts(other, 'javelin')).some((post) => post.id === id && post.text === hello && post.author === 'Asterix'));
      const seenMs = now() - postedAt;
      await until('the post appears in the poster\'s browser', async () =>
        (await shownPosts(page, 'javelin')).some((post) => post.id === id));
      assert.equal(await page.inputValue('#fans-text'), '', 'the form is cleared after a post');

      // Removed by the operator: gone from both.
      const removal = await fetch(`${URL}/api/events/javelin/posts/${id}`, {
        method: 'DELETE', headers: { Authorization: `Bearer ${WRITE_TOKEN}` },
      });
      assert.equal(removal.status, 200, `DELETE answered ${removal.status}: ${await removal.text()}`);
      for (const [name, p] of [['poster', page], ['other', other]]) {
        await until(`the removed post vanishes from the ${name}'s browser`, async () =>
          !(await shownPosts(p, 'javelin')).some((post) => post.id === id));
      }
      const anonymous = await fetch(`${URL}/api/events/javelin/posts/${id}`, { method: 'DELETE' });
      assert.equal(anonymous.status, 401, 'a removal without the operator\'s token is refused (401)');

      // Markup in a post is text: shown as typed, never run, no element made.
      const markup = '<img src=x onerror=alert(1)>';
      const hostile = await postVia(other, 'Mallory', markup);
      assert.equal(hostile.status, 201, `POST answered ${hostile.status}: ${JSON.stringify(hostile.body)}`);
      const hostileId = Number(hostile.body.post.id);
      for (const [name, p] of [['poster', other], ['other', page]]) {
        await until(`the markup post appears in the ${name}'s browser`, async () =>
          (await shownPosts(p, 'javelin')).some((post) => post.id === hostileId));
        const shown = (await shownPosts(p, 'javelin')).find((post) => post.id === hostileId);
        assert.equal(shown.text, markup, 'the post shows the characters as sent');
        assert.equal(await p.locator(`#fans-posts [data-id="${hostileId}"] .post-text`).innerText(), markup,
                     'the rendered text is the characters');
        assert.equal(await p.locator('#fans img, #events img').count(), 0, 'no <img> element was created');
      }
      assert.deepEqual(dialogs, [], 'no dialog (alert) was opened by a post');

      // The server's reasons are shown: 400 with its message.
      const bad = await postVia(page, 'Asterix', 'a\u0007bell');
      assert.equal(bad.status, 400, `a control character in a post: ${JSON.stringify(bad.body)}`);
      assert.ok(bad.body?.error, 'a 400 says why');
      await until('the 400\'s message is shown', async () =>
        (await page.textContent('#fans-error')).includes(bad.body.error),
      { detail: async () => `shown: "${await page.textContent('#fans-error')}"` });
      // Posting too fast: 429, and the page says when to try again
      // (Retry-After). Each frontend limits on its own: this browser
      // talks to one (a survivor of the failover) directly.
      const alive = (await sseStreams()).map((n) => n >= 0);
      const flood = await newPage({ viewport: { width: 1100, height: 800 } }, `http://${FRONTENDS[alive.indexOf(true)]}`);
      let limited = null;
      try {
        await openFans(flood, 'wrestling');
        for (let i = 1; i <= 30 && !limited; i++) {
          const answer = await postVia(flood, 'Obelix', `Menhir number ${i}`, { retry: false });
          if (answer.status === 429) limited = { i, retryAfter: Number(answer.headers['retry-after']) };
          else assert.equal(answer.status, 201, `post ${i}: ${JSON.stringify(answer.body)}`);
        }
        assert.ok(limited, 'no 429 after 30 posts of one author in a row');
        assert.ok(limited.retryAfter >= 1, `a 429 says when to retry (Retry-After: ${limited.retryAfter})`);
        // Read at once (Retry-After may be a single second).
        const said = await until('the page says when to post again, with Post off until then', async () => {
          const shown = await flood.evaluate(() => ({
            text: document.getElementById('fans-error').textContent,
            off: document.getElementById('fans-post').disabled,
          }));
          return /try again in \d+ seconds?/.test(shown.text) && shown.off ? shown.text : false;
        }, { detail: async () => `shown: "${await flood.textContent('#fans-error')}"` });
        const seconds = Number(/in (\d+)/.exec(said)[1]);
        assert.ok(seconds >= 1 && seconds <= limited.retryAfter, `"${said}" against Retry-After: ${limited.retryAfter}`);
      } finally {
        await flood.context().close();
      }

      console.log(`# fan boards: a post reached the other browser ${seenMs.toFixed(0)} ms after its 201; ` +
                  'removals (DELETE with the write token; podium-bard remove-post) vanished from both ' +
                  '(DELETE without the token: 401); markup stayed text, ' +
                  `nothing ran; 400 shown with the server's message; 429 at post ${limited.i} of one author, ` +
                  `Retry-After ${limited.retryAfter} s shown`);

      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS, 'live-page-fans.png') });

      // Removed by the operator with the bard (remove-post): gone from both.
      const removed = await bard('remove-post', 'javelin', String(hostileId), '--reason=markup');
      for (const [name, p] of [['poster', other], ['other', page]]) {
        await until(`the post removed with podium-bard remove-post vanishes from the ${name}'s browser`, async () =>
          !(await shownPosts(p, 'javelin')).some((post) => post.id === hostileId));
        assert.ok(await p.evaluate(() => Number(document.getElementById('fans').dataset.version)) >= removed.seq,
                  'the board shown is the one after the removal');
      }

      // Closing a board closes its stream; the page's main stream stays.
      for (const p of [page, other]) {
        assert.equal(await openSources(p, 'fans=javelin'), 1, 'one stream of the open board');
        await p.click('#fans-close');
        await until('the board closes', async () => !(await p.locator('#fans[open]').count()));
        await until('the board\'s stream is closed with it', async () => (await openSources(p, 'fans=')) === 0,
                    { detail: async () => `${await openSources(p, 'fans=')} open` });
        assert.equal(await openSources(p, 'events='), 1, 'the main stream stays open');
      }
    } finally {
      await other.context().close();
    }
  });
});

// ---- A phone ----------------------------------------------------------------

test('5. readable on a phone: nothing wider than 375 px', () => snapshotOnFailure('phone', async () => {
  const phone = await newPage({ viewport: { width: 375, height: 740 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
  try {
    const width = await phone.evaluate(() => document.scrollingElement.scrollWidth);
    assert.ok(width <= 375, `the page is ${width} px wide at a 375 px viewport`);
    await openFans(phone, 'javelin');
    await phone.screenshot({ path: join(ARTIFACTS, 'live-page-phone-fans.png') });
    const boardWidth = await phone.evaluate(() => Math.max(document.scrollingElement.scrollWidth,
                                                            document.getElementById('fans').scrollWidth));
    assert.ok(boardWidth <= 375, `with the fan board open the page is ${boardWidth} px wide`);
    mkdirSync(ARTIFACTS, { recursive: true });
    await phone.screenshot({ path: join(ARTIFACTS, 'live-page-phone.png') });
    console.log(`# phone: scrollWidth ${width} at 375x740`);
  } finally {
    await phone.context().close();
  }
}));

test('6. no script error in any page, no dialog', () => {
  assert.deepEqual(pageErrors, [], 'uncaught exceptions in the page');
  assert.deepEqual(dialogs, [], 'dialogs (alert, confirm) opened');
});
