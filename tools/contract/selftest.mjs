// Shows that validate.mjs finds what it is meant to find: a log of responses
// that openapi.yaml declares passes, and a log of one response per kind of
// mismatch fails with each message at its own line. Usage: node selftest.mjs openapi.yaml
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const spec = process.argv[2];
const validator = path.join(path.dirname(fileURLToPath(import.meta.url)), 'validate.mjs');

const JSON_TYPE = 'application/json; charset=utf-8';
const PROBLEM = 'application/problem+json';
const id = '0b9a4a6e-3b55-4c1e-9f3c-2f1f4f0c7a11';
const event = (offset) => ({
  id,
  stream: 'orders',
  offset,
  global_position: 17 + offset,
  type: 'OrderPlaced',
  data: { n: offset },
  metadata: null,
  created_at: '2026-11-24T10:00:00.123456Z',
});
const problem = (status, code) => ({
  type: `https://streamq.dev/problems/${code}`,
  title: 'Title',
  status,
  detail: 'detail',
  code,
});

function exchange(method, target, status, type, body, extra = {}) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const headers = { 'x-request-id': 'a1', ...(type ? { 'content-type': type } : {}), ...(extra.headers || {}) };
  for (const [k, v] of Object.entries(headers)) if (v === undefined) delete headers[k];
  return { client: 'curl', method, target, status, body: text, length: Buffer.byteLength(text), complete: true, ...extra, headers };
}

const valid = [
  exchange('GET', '/healthz', 200, JSON_TYPE, { status: 'ok' }),
  exchange('GET', '/streams/a%2Fb/events/3', 400, PROBLEM, problem(400, 'invalid_name')),
  exchange('GET', '/streams/orders/export', 200, 'application/x-ndjson', `${JSON.stringify(event(0))}\n${JSON.stringify(event(1))}\n`),
  exchange('GET', '/streams/orders/subscribe', 200, 'text/event-stream', `id: 0\nevent: OrderPlaced\ndata: ${JSON.stringify(event(0))}\n\n: heartbeat\n\nid: 1\ndata: {"cut`, { complete: false }),
  exchange('HEAD', '/version', 200, JSON_TYPE, ''),
  exchange('GET', '/streams/orders/events', 200, 'application/x-ndjson', `${JSON.stringify(event(0))}\n`, { accept: 'application/x-ndjson' }),
  exchange('GET', '/nope', 404, PROBLEM, problem(404, 'not_found')),
  exchange('PATCH', '/healthz', 405, PROBLEM, problem(405, 'method_not_allowed'), { headers: { allow: 'GET, HEAD' } }),
  exchange('GET', '/str eams', 400, PROBLEM, problem(400, 'invalid_request'), { client: 'raw', headers: { connection: 'close' } }),
  exchange('POST', '/streamq/healthz', 413, PROBLEM, problem(413, 'payload_too_large'), { proxy_mount: '/streamq' }),
  exchange('POST', '/streams/x/events', 502, 'text/html', '<html>', { proxy_mount: '/streamq', headers: { 'x-request-id': undefined } }),
];

const mismatches = {
  'status 418 is not declared': exchange('GET', '/healthz', 418, JSON_TYPE, { status: 'ok' }),
  'Content-Type text/plain is not declared': exchange('GET', '/healthz', 200, 'text/plain', 'ok'),
  'required header X-Request-Id is missing': exchange('GET', '/healthz', 200, JSON_TYPE, { status: 'ok' }, { headers: { 'x-request-id': undefined } }),
  "must have required property 'status'": exchange('GET', '/healthz', 200, JSON_TYPE, {}),
  '/extra is not in the schema': exchange('GET', '/healthz', 200, JSON_TYPE, { status: 'ok', extra: 1 }),
  'item 1: /offset must be >= 0': exchange('GET', '/streams/orders/export', 200, 'application/x-ndjson', `${JSON.stringify(event(0))}\n${JSON.stringify(event(-1))}\n`),
  'item 0: /created_at must match format': exchange('GET', '/streams/orders/subscribe', 200, 'text/event-stream', `id: 0\ndata: ${JSON.stringify({ ...event(0), created_at: 'yesterday' })}\n\n`),
  'for a path openapi.yaml does not have': exchange('GET', '/nope', 200, JSON_TYPE, {}),
  'code not_found where method_not_allowed is stated': exchange('PATCH', '/healthz', 405, PROBLEM, problem(405, 'not_found'), { headers: { allow: 'GET' } }),
  'Content-Type application/x-ndjson is not declared': exchange('GET', '/streams/orders/events', 200, 'application/x-ndjson', `${JSON.stringify(event(0))}\n`),
  'HEAD has a body': exchange('HEAD', '/version', 200, JSON_TYPE, '{}'),
  'a response that declares no content has a body': exchange('DELETE', '/streams/orders', 204, undefined, 'x'),
};

const dir = mkdtempSync(path.join(tmpdir(), 'streamq-contract-selftest-'));
function run(lines) {
  writeFileSync(path.join(dir, 'log.ndjson'), lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  try {
    return { code: 0, output: execFileSync('node', [validator, spec, dir], { encoding: 'utf8', stdio: 'pipe' }) };
  } catch (e) {
    return { code: e.status, output: `${e.stdout}${e.stderr}` };
  }
}
let failed = 0;
try {
  const ok = run(valid);
  if (ok.code !== 0) {
    failed++;
    console.error(`selftest: the declared responses did not pass:\n${ok.output}`);
  }
  // One run over every mismatch: each must be reported, at its own line of the log.
  const cases = Object.entries(mismatches);
  const bad = run(cases.map(([, line]) => line));
  const blocks = new Map();
  for (const block of bad.output.split(/^(?=log\.ndjson:)/m)) {
    const m = /^log\.ndjson:(\d+):/.exec(block);
    if (m) blocks.set(Number(m[1]), block);
  }
  cases.forEach(([message], i) => {
    const block = blocks.get(i + 1) || '';
    if (bad.code !== 1 || !block.includes(message)) {
      failed++;
      console.error(`selftest: expected "${message}" for line ${i + 1} (exit ${bad.code}), got:\n${block || bad.output}`);
    }
  });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log(`contract selftest: ${1 + Object.keys(mismatches).length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
