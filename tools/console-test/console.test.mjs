// The browser test of GET /console: the real binary ($STREAMQ_BIN) with a tokens
// file on the test database (PG* variables), seeded through its HTTP API, and
// Debian's chromium driven by puppeteer-core doing what a person would: sign in,
// find the stream, page its events, watch an append arrive in the live tail,
// redrive a dead letter, and get the sign-in prompt back for a wrong token.
// Screenshots of every view go to the folder given as the first argument.
// Usage: node console.test.mjs SCREENSHOT_DIR
import { spawn, execFileSync } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import puppeteer from 'puppeteer-core';

const BUDGET_MS = 60000; // the whole test, start to end
const LIVE_TAIL_MS = 2000; // an append's 201 to its event in the live tail (issue 18)
const STEP_MS = 15000; // one wait for the page, well inside the budget
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

const bin = process.env.STREAMQ_BIN;
const shots = process.argv[2];
if (!bin || !shots) {
  console.error('usage: STREAMQ_BIN=... node console.test.mjs SCREENSHOT_DIR (with PG* set)');
  process.exit(2);
}
fs.mkdirSync(shots, { recursive: true });
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'streamq-console-'));
const started = Date.now();
const log = (msg) => console.log(`[${((Date.now() - started) / 1000).toFixed(1)} s] ${msg}`);

let service = null;
let launching = null;
let browser = null;
let page = null;
let receiver = null;

const deadline = setTimeout(() => {
  console.error(`FAIL: the test took longer than ${BUDGET_MS / 1000} s`);
  stopAll().finally(() => process.exit(1));
}, BUDGET_MS);

async function stopAll() {
  if (!browser && launching) browser = await launching.catch(() => null);
  launching = null;
  if (browser) await browser.close().catch(() => {});
  browser = null;
  if (receiver) receiver.close();
  receiver = null;
  let code = 0;
  if (service && service.exitCode === null) {
    service.kill('SIGTERM');
    const [exit] = await once(service, 'exit');
    code = exit;
  }
  service = null;
  return code;
}

// ------------------------------------------------------------ the service

function makeToken() {
  const out = execFileSync(bin, ['token', '--scope', 'admin', '--label', 'console-test'], { encoding: 'utf8' });
  const token = out.match(/^token: (\S+)$/m)[1];
  const line = out.split('\n').find((l) => l.startsWith('admin '));
  fs.writeFileSync(path.join(tmp, 'tokens'), `${line}\n`);
  return token;
}

async function startService() {
  const schema = `console_${process.pid}_${Date.now() % 100000}`;
  const portFile = path.join(tmp, 'port');
  const logFile = path.join(tmp, 'streamq.log');
  const out = fs.openSync(logFile, 'w');
  service = spawn(bin, ['--listen', '127.0.0.1:0', '--port-file', portFile, '--schema', schema,
    '--tokens-file', path.join(tmp, 'tokens'), '--log-level', 'info'], { stdio: ['ignore', out, out] });
  for (let i = 0; i < 400; i++) {
    if (fs.existsSync(portFile) && fs.readFileSync(portFile, 'utf8').endsWith('\n')) {
      return { port: Number(fs.readFileSync(portFile, 'utf8')), logFile };
    }
    if (service.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`streamq did not start:\n${fs.readFileSync(logFile, 'utf8')}`);
}

// A webhook receiver that always answers 500, so the seeded webhook is failing.
async function startReceiver() {
  receiver = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => { res.statusCode = 500; res.end('receiver refuses'); });
  });
  receiver.listen(0, '127.0.0.1');
  await once(receiver, 'listening');
  return receiver.address().port;
}

function check(cond, what) {
  if (!cond) throw new Error(`check failed: ${what}`);
}

// ------------------------------------------------------------------- main

// Chromium starts while the service starts and is seeded: on a loaded machine
// its start is the slowest step.
function launchBrowser() {
  launching = puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    userDataDir: path.join(tmp, 'chromium'),
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage', '--disable-extensions'],
    defaultViewport: { width: 1280, height: 800 },
  });
  launching.catch(() => {}); // awaited (and its failure reported) in main
}


async function main() {
  launchBrowser();
  const token = makeToken();
  const { port, logFile } = await startService();
  const base = `http://127.0.0.1:${port}`;
  log(`streamq on ${base}`);

  async function api(method, p, body, expect) {
    const res = await fetch(base + p, {
      method,
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (expect !== undefined && res.status !== expect) throw new Error(`${method} ${p}: ${res.status} ${text}`);
    return text ? JSON.parse(text) : null;
  }

  // Seed: a stream of 60 events (two pages of 50), a consumer group 50 behind,
  // a queue with one pending message and one dead letter, a failing webhook.
  const events = (from, n) => Array.from({ length: n }, (_, i) => ({
    type: (from + i) % 3 === 0 ? 'OrderShipped' : 'OrderPlaced',
    data: { order: from + i, lines: [{ sku: `sku-${(from + i) % 7}`, qty: 1 + ((from + i) % 4) }], total_cents: 1250 * (1 + i) },
  }));
  await api('POST', '/streams/orders/events', { events: events(0, 30) }, 201);
  await api('POST', '/streams/orders/events', { events: events(30, 30) }, 201);
  await api('POST', '/streams/invoices/events', { events: [{ type: 'InvoiceIssued', data: { invoice: 1 } }] }, 201);
  await api('PUT', '/streams/orders/consumers/billing', { offset: 10 }, 200);
  await api('POST', '/queues/mail/messages', { messages: [{ type: 'SendEmail', data: { to: 'a@example.org' } }] }, 201);
  const dequeued = await api('POST', '/queues/mail/dequeue', { max_messages: 1, consumer: 'console-test' }, 200);
  const dead = dequeued.messages[0];
  await api('POST', `/queues/mail/messages/${dead.id}/nack`, { receipt: dead.receipt, requeue: false, reason: 'smtp refused' }, 204);
  await api('POST', '/queues/mail/messages', { messages: [{ type: 'SendEmail', data: { to: 'b@example.org' } }] }, 201);
  const receiverPort = await startReceiver();
  await api('PUT', '/webhooks/orders-hook', { url: `http://127.0.0.1:${receiverPort}/hook`, stream: 'orders', from: 'start' }, 201);
  for (let i = 0; (await api('GET', '/webhooks/orders-hook')).state !== 'failing'; i++) {
    check(i < 200, 'the webhook is failing within 10 s');
    await new Promise((r) => setTimeout(r, 50));
  }
  const q0 = await api('GET', '/queues/mail', undefined, 200);
  check(q0.pending === 1 && q0.dead_letters === 1, 'seeded queue: 1 pending, 1 dead letter');
  log('seeded');

  // The browser, with everything it logs recorded. 401s are expected only
  // while the page has no token or a wrong one (phase 'no-token', 'wrong-token').
  browser = await launching;
  page = await browser.newPage();
  page.setDefaultTimeout(STEP_MS);
  let phase = 'no-token';
  const problems = [];
  const expected401 = [];
  page.on('console', (m) => {
    if (m.type() !== 'error' && m.type() !== 'warn') return;
    const text = m.text();
    if (phase !== 'signed-in' && /status of 401/.test(text)) return; // the browser's own line for an expected 401
    problems.push(`console ${m.type()} (${phase}): ${text}`);
  });
  page.on('pageerror', (e) => problems.push(`page error (${phase}): ${e.message}`));
  page.on('requestfailed', (r) => {
    // The console aborts its own long polls and tails when a view closes.
    if (r.failure()?.errorText === 'net::ERR_ABORTED') return;
    problems.push(`request failed (${phase}): ${r.method()} ${r.url()}: ${r.failure()?.errorText}`);
  });
  page.on('response', (r) => {
    if (r.status() < 400) return;
    if (r.status() === 401 && phase !== 'signed-in') expected401.push(`${phase}: ${r.url()}`);
    else problems.push(`HTTP ${r.status()} (${phase}): ${r.request().method()} ${r.url()}`);
  });
  const shot = async (name, fullPage = false) => {
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage });
    log(`screenshot ${name}.png`);
  };
  const textOf = (sel) => page.$eval(sel, (el) => el.textContent);
  const waitText = (sel, text) => page.waitForFunction((s, t) => {
    const el = document.querySelector(s);
    return el && el.textContent.includes(t);
  }, {}, sel, text);
  const clickLink = async (scope, text) => {
    const link = await page.waitForSelector(`::-p-xpath(//${scope}//a[normalize-space(.)="${text}"])`);
    await link.click();
  };

  // 1. No token: the console asks for one.
  await page.goto(`${base}/console`);
  await page.waitForSelector('#sign-in[open] #sign-in-token');
  await shot('sign-in');

  // 2. The token: the overview shows what was seeded.
  phase = 'signed-in';
  await page.type('#sign-in-token', token);
  await page.keyboard.press('Enter');
  await waitText('#fig-streams', '2 streams');
  await waitText('#fig-queues', '1 queue');
  await waitText('#fig-dead', '1 dead letter');
  await waitText('#fig-failing', '1 failing webhook');
  await waitText('#overview-body', 'billing');
  check((await textOf('#overview-body')).includes('50 events'), 'overview shows the group\'s lag of 50 events');
  await shot('overview');

  // 3. Streams (reached by keyboard): the list, then the stream, its pages and
  // its consumer group.
  await page.focus('nav a[data-view="streams"]');
  await page.keyboard.press('Enter');
  await clickLink('*[@id="stream-list"]', 'orders');
  await waitText('#events-status', 'Offsets 0 – 49: 50 events');
  check((await page.$$('#events li.event')).length === 50, 'the first page holds 50 events');
  check((await textOf('#events')).includes('"total_cents"'), 'event data is shown as JSON');
  await page.click('#ev-newer');
  await waitText('#events-status', 'Offsets 50 – 59: 10 events');
  await page.click('#ev-older');
  await waitText('#events-status', 'Offsets 0 – 49: 50 events');
  await page.type('#ev-type', 'OrderShipped');
  await page.click('form.filters button[type=submit]');
  await waitText('#events-status', 'Offsets 0 – 57: 20 events');
  check((await textOf('main')).includes('billing'), 'the stream view lists consumer group billing');

  // 4. Live tail: an append made through the API shows within 2 s of its 201.
  await page.click('#tail-toggle');
  await page.waitForSelector('#tail-state[data-state="live"]');
  const appended = await api('POST', '/streams/orders/events', { events: [{ type: 'OrderCancelled', data: { order: 60, why: 'live tail test' } }] }, 201);
  const at201 = Date.now();
  await page.waitForFunction((off) => document.querySelector(`#tail li[data-offset="${off}"]`), { timeout: LIVE_TAIL_MS }, appended.first_offset);
  const tailMs = Date.now() - at201;
  log(`live tail: the append (offset ${appended.first_offset}) appeared ${tailMs} ms after its 201`);
  await shot('stream');

  // 5. Queues: the depth, then redrive the dead letter from the page.
  await clickLink('nav', 'Queues');
  await clickLink('*[@id="queue-list"]', 'mail');
  await waitText('#q-pending', '1 message');
  await waitText('#q-dead', '1 message');
  await waitText('#dead-letters', 'smtp refused');
  await shot('queue', true);
  await page.click(`#dead-letters input[type=checkbox][value="${dead.id}"]`);
  const redrive = await page.waitForSelector('::-p-xpath(//*[@id="dead-letters"]//button[.="Redrive selected"])');
  await redrive.click();
  await waitText('#dead-status', 'Redriven: 1 message');
  await waitText('#q-pending', '2 messages');
  const pending = await api('GET', '/queues/mail/messages?state=pending', undefined, 200);
  check(pending.messages.some((m) => m.id === dead.id), 'the redriven message is pending again (API)');
  const q1 = await api('GET', '/queues/mail', undefined, 200);
  check(q1.dead_letters === 0 && q1.pending === 2, 'the API shows 2 pending, 0 dead letters');
  log('dead letter redriven from the page; pending again through the API');
  await clickLink('nav', 'Queues');
  await waitText('#queue-list', 'mail');
  await shot('queues');

  // 6. Webhooks: the failing one, paused from the page.
  await clickLink('nav', 'Webhooks');
  await waitText('#webhook-list', 'failing');
  await waitText('#webhook-list', 'the receiver answered 500');
  await shot('webhooks');
  const pause = await page.waitForSelector('::-p-xpath(//*[@id="webhook-list"]//button[.="Pause"])');
  await pause.click();
  await waitText('#webhook-list', 'paused');
  check((await api('GET', '/webhooks/orders-hook', undefined, 200)).state === 'paused', 'the webhook is paused (API)');

  // 7. The global feed: every stream's events, newest first.
  await clickLink('nav', 'Global feed');
  await waitText('#feed-state', '62 events so far');
  check((await textOf('#feed')).includes('InvoiceIssued'), 'the feed shows the other stream too');
  await shot('feed');

  // 8. A phone's width: the overview still reads.
  await page.setViewport({ width: 390, height: 844 });
  await clickLink('nav', 'Overview');
  await waitText('#fig-streams', '2 streams');
  await shot('overview-phone');
  await page.setViewport({ width: 1280, height: 800 });

  // 9. A wrong token: the 401 brings the sign-in prompt back, with the problem.
  phase = 'wrong-token';
  await page.click('#sign-out');
  await page.waitForSelector('#sign-in[open]');
  await page.type('#sign-in-token', 'not-a-token-this-service-knows');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#sign-in[open] #sign-in-reason .problem');
  await waitText('#sign-in-reason', 'the bearer token is not one this service knows');
  await shot('sign-in-401');

  check(expected401.some((u) => u.startsWith('no-token')), 'a 401 without a token');
  check(expected401.some((u) => u.startsWith('wrong-token')), 'a 401 for the wrong token');
  if (problems.length) throw new Error(`the browser logged problems:\n  ${problems.join('\n  ')}`);

  const code = await stopAll();
  const serviceLog = fs.readFileSync(logFile, 'utf8');
  check(code === 0, `streamq exits 0 on SIGTERM (got ${code})`);
  check(!/AddressSanitizer|LeakSanitizer|runtime error/.test(serviceLog), 'no sanitizer report in the service log');
  check(!serviceLog.includes(token), 'the token never appears in the service log');
  log(`PASS (live tail ${tailMs} ms; screenshots in ${shots})`);
}

main().then(() => {
  clearTimeout(deadline);
  fs.rmSync(tmp, { recursive: true, force: true });
  console.log('1 passed, 0 failed');
  process.exit(0);
}, async (err) => {
  console.error(`FAIL: ${err.stack || err}`);
  if (page) {
    // What the page showed when it failed, for whoever reads the log.
    await page.screenshot({ path: path.join(shots, 'failure.png') }).catch(() => {});
    const shown = await page.evaluate(() => document.body.innerText).catch(() => '');
    console.error(`the page showed (failure.png):\n${shown.slice(0, 3000)}`);
  }
  await stopAll();
  console.log('0 passed, 1 failed');
  process.exit(1);
});
