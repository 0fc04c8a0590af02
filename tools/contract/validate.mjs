// Checks every response the integration tests received against openapi.yaml.
//
// Usage: node tools/contract/validate.mjs openapi.yaml EXCHANGES_DIR
//
// EXCHANGES_DIR holds the *.ndjson files the test harness writes when
// STREAMQ_EXCHANGES_DIR is set (tests/integration/exchange_log.c, and
// tests/readme/examples.sh for README's curl examples): one JSON
// line per response, {client, method, target, accept, status, headers, body,
// length, complete}. Each response must be one the description declares:
//
//  * the target's path (split on raw "/", literal segments compared as sent,
//    "{param}" matching any one segment, however percent-encoded, as
//    src/http/router.c does) names a path of the description, and the method
//    an operation of it; HEAD uses GET's operation where none is declared
//    ("HEAD is served wherever GET is") and must have no body; an operation
//    with `x-streamq-accept-alternative: {media-type, operation}` answers a
//    request whose Accept names that media type as the named operation does,
//    and such an answer (of that Content-Type) is checked against it;
//  * the status is declared for the operation (exact code, then "4XX", then
//    "default");
//  * a declared body comes with a Content-Type the response declares (a
//    declared type without parameters matches any parameters; one with
//    parameters must match them all), a response that declares no content has
//    an empty body;
//  * every header the response declares required is present, and every
//    declared header that is present matches its schema;
//  * a JSON body (application/json, application/*+json) matches the schema,
//    and has no member the schema does not name: JSON Schema lets an object
//    carry members beyond its `properties`, but a response field the
//    description does not mention is undocumented (an object schema that
//    allows more says so with additionalProperties or patternProperties);
//    NDJSON lines and Server-Sent Events frames' data each match the schema
//    named by the media type's `x-item-schema` when it has one (OpenAPI 3.2's
//    `itemSchema`, as an extension until then). A body the client stopped
//    reading part-way (a subscription it closed) is checked up to the last
//    whole line or frame.
//
// The generic answers the description states in info.description, "besides
// the responses listed for each operation", are the only exceptions, taken
// only for a status the operation (if any) does not list, and checked as
// strictly (problem+json, X-Request-Id, Problem schema, the `code` stated):
//
//  * NOT_FOUND: a path that matches no path of the description is 404
//    `not_found`;
//  * METHOD_NOT_ALLOWED: a method a known path does not serve is 405
//    `method_not_allowed` with an `Allow` header;
//  * REFUSED_BEFORE_ROUTING: a request whose target or headers are refused
//    before any route runs is 400 `invalid_request` with `Connection: close`;
//    accepted for any request only when it carries both (the tests that send
//    such requests use raw sockets or targets curl passes as they are);
//  * PAYLOAD_TOO_LARGE: any request, "whatever the route, even one that takes
//    no body", may be 413 `payload_too_large`.
//
// Answers through a proxy (test_nginx; the line has `proxy_mount`): the mount
// prefix is removed from the path first ("/streamq/streams/a/events" is
// "/streams/a/events"), and an answer without X-Request-Id, which streamq puts
// on every response, is the proxy's own (nginx's 502 page while an instance
// is down, its redirect of "/streamq" to "/streamq/"): it is not streamq's and
// is only counted, under "(proxy's own answer)".
//
// Prints how many responses each operation had validated and every mismatch;
// exits 1 on any mismatch, 2 on a usage or input error.
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import YAML from 'yaml';

const [specPath, dir] = process.argv.slice(2);
if (!specPath || !dir) {
  console.error('usage: validate.mjs openapi.yaml EXCHANGES_DIR');
  process.exit(2);
}

const spec = YAML.parse(readFileSync(specPath, 'utf8'));
const SPEC_ID = 'https://streamq.invalid/openapi.json';
const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
addFormats(ajv);
ajv.addSchema(spec, SPEC_ID);
// Outside strict mode Ajv ignores a format it does not know: refuse instead.
for (const [, format] of readFileSync(specPath, 'utf8').matchAll(/^\s*format:\s*['"]?([\w-]+)/gm)) {
  if (!ajv.formats[format]) {
    console.error(`openapi.yaml uses format ${format}, which this validator does not check`);
    process.exit(2);
  }
}

const METHODS = ['get', 'put', 'post', 'delete', 'head', 'patch', 'options'];

// ------------------------------------------------------------ references

const escapePointer = (s) => s.replace(/~/g, '~0').replace(/\//g, '~1');

function pointerGet(pointer) {
  let node = spec;
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (node == null || !(key in node)) throw new Error(`openapi.yaml has no ${pointer}`);
    node = node[key];
  }
  return node;
}

// Follows in-document $refs; returns the node and the JSON pointer where it lives.
function resolve(node, pointer) {
  for (let hops = 0; node && typeof node.$ref === 'string'; hops++) {
    if (!node.$ref.startsWith('#/') || hops > 20) throw new Error(`unsupported $ref ${node.$ref}`);
    pointer = node.$ref.slice(1);
    node = pointerGet(pointer);
  }
  return { node, pointer };
}

const validators = new Map();
function validatorAt(pointer) {
  if (!validators.has(pointer)) validators.set(pointer, ajv.compile({ $ref: `${SPEC_ID}#${pointer}` }));
  return validators.get(pointer);
}

// ----------------------------------------------------------------- paths

const operations = new Map(); // operationId -> {op, pointer}
for (const [template, item] of Object.entries(spec.paths)) {
  for (const m of METHODS) {
    if (item[m]?.operationId)
      operations.set(item[m].operationId, { op: item[m], pointer: `/paths/${escapePointer(template)}/${m}` });
  }
}

const templates = Object.keys(spec.paths).map((template) => ({
  template,
  segments: template.split('/').slice(1),
  literals: template.split('/').filter((s) => s && !s.startsWith('{')).length,
}));

// The path of the description the raw target names, or null. Literal segments
// are compared as sent (the router does not decode them); a parameter takes
// any one segment, empty included (the handler answers invalid_name).
function matchPath(target) {
  const rawPath = target.split('?')[0].split('#')[0];
  if (!rawPath.startsWith('/')) return null;
  const segments = rawPath.split('/').slice(1);
  const hits = templates.filter(
    (t) =>
      t.segments.length === segments.length &&
      t.segments.every((s, i) => (s.startsWith('{') && s.endsWith('}')) || s === segments[i]),
  );
  hits.sort((a, b) => b.literals - a.literals);
  return hits.length ? hits[0].template : null;
}

// ------------------------------------------------------------- checks

function mediaEssence(type) {
  return type.split(';')[0].trim().toLowerCase();
}

function mediaParams(type) {
  return type
    .split(';')
    .slice(1)
    .map((p) => p.trim().toLowerCase().replace(/\s*=\s*/, '='))
    .filter(Boolean)
    .sort();
}

function contentFor(content, actual) {
  for (const [declared, media] of Object.entries(content)) {
    if (mediaEssence(declared) !== mediaEssence(actual)) continue;
    const want = mediaParams(declared);
    if (want.length === 0 || JSON.stringify(want) === JSON.stringify(mediaParams(actual))) return { declared, media };
  }
  return null;
}

const isJsonType = (type) => /^application\/([a-z0-9.+-]+\+)?json$/.test(mediaEssence(type));

// The property schemas an object schema names (through $ref, allOf, anyOf and
// oneOf: the union of the branches), and whether it allows other members.
function objectShape(schema, shape = { props: new Map(), open: false, described: false }, depth = 0) {
  if (!schema || typeof schema !== 'object' || depth > 30) return shape;
  schema = resolve(schema, '').node;
  if (schema.properties) {
    shape.described = true;
    for (const [k, v] of Object.entries(schema.properties)) if (!shape.props.has(k)) shape.props.set(k, v);
  }
  if ((schema.additionalProperties !== undefined && schema.additionalProperties !== false) || schema.patternProperties)
    shape.open = true;
  if (schema.additionalProperties === false) shape.described = true;
  for (const k of ['allOf', 'anyOf', 'oneOf']) for (const b of schema[k] || []) objectShape(b, shape, depth + 1);
  return shape;
}

function itemSchemas(schema, out = [], depth = 0) {
  if (!schema || typeof schema !== 'object' || depth > 30) return out;
  schema = resolve(schema, '').node;
  if (schema.items) out.push(schema.items);
  for (const k of ['allOf', 'anyOf', 'oneOf']) for (const b of schema[k] || []) itemSchemas(b, out, depth + 1);
  return out;
}

// Members of `value` that `schema` does not name, as "/a/b" paths.
function undeclared(schema, value, at = '', out = []) {
  if (Array.isArray(value)) {
    const items = itemSchemas(schema);
    if (items.length) value.forEach((v, i) => items.forEach((s) => undeclared(s, v, `${at}/${i}`, out)));
  } else if (value && typeof value === 'object') {
    const shape = objectShape(schema);
    if (!shape.described) return out; // any JSON value (data, metadata)
    for (const [k, v] of Object.entries(value)) {
      if (shape.props.has(k)) undeclared(shape.props.get(k), v, `${at}/${k}`, out);
      else if (!shape.open) out.push(`${at}/${k} is not in the schema`);
    }
  }
  return out;
}

function schemaErrors(validate, value) {
  return validate(value)
    ? []
    : validate.errors.map((e) => `${e.instancePath || '(root)'} ${e.message}${e.params ? ' ' + JSON.stringify(e.params) : ''}`);
}

function headerValue(schema, raw) {
  const type = Array.isArray(schema?.type) ? schema.type[0] : schema?.type;
  if ((type === 'integer' || type === 'number') && /^-?\d+(\.\d+)?$/.test(raw)) return Number(raw);
  return raw;
}

// The data of each whole Server-Sent Events frame in `body`.
function sseFrames(body) {
  const frames = [];
  const blocks = body.replace(/\r\n?/g, '\n').split('\n\n');
  blocks.pop(); // what follows the last blank line is not a whole frame
  for (const block of blocks) {
    const data = block
      .split('\n')
      .filter((l) => l.startsWith('data:'))
      .map((l) => l.slice(5).replace(/^ /, ''));
    if (data.length) frames.push(data.join('\n'));
  }
  return frames;
}

function checkBody(x, media, mediaPointer, type, errors) {
  const schemaPointer = `${mediaPointer}/schema`;
  if (isJsonType(type)) {
    if (!x.complete) return;
    let value;
    try {
      value = JSON.parse(x.body);
    } catch {
      errors.push(`body is not JSON: ${x.body.slice(0, 200)}`);
      return;
    }
    if (media.schema) {
      errors.push(...schemaErrors(validatorAt(schemaPointer), value));
      errors.push(...new Set(undeclared(media.schema, value)));
    }
    return;
  }
  const item = media['x-item-schema'] ? validatorAt(`${mediaPointer}/x-item-schema`) : null;
  let items = [];
  if (mediaEssence(type) === 'application/x-ndjson') {
    const lines = x.body.split('\n');
    lines.pop(); // empty after the last newline, or a line cut short
    if (x.complete && x.body.length && !x.body.endsWith('\n')) errors.push('NDJSON body does not end in a newline');
    items = lines;
  } else if (mediaEssence(type) === 'text/event-stream') {
    items = sseFrames(x.body);
  } else {
    if (media.schema && x.complete) errors.push(...schemaErrors(validatorAt(schemaPointer), x.body));
    return;
  }
  if (!item) return;
  items.forEach((text, i) => {
    let value;
    try {
      value = JSON.parse(text);
    } catch {
      errors.push(`item ${i} is not JSON: ${text.slice(0, 200)}`);
      return;
    }
    for (const e of schemaErrors(item, value)) errors.push(`item ${i}: ${e}`);
    for (const e of new Set(undeclared(media['x-item-schema'], value))) errors.push(`item ${i}: ${e}`);
  });
}

// Checks `x` against the response object at `pointer`; returns the mismatches.
function checkResponse(x, pointer, isHead) {
  const errors = [];
  const { node: response, pointer: at } = resolve(pointerGet(pointer), pointer);
  for (const [name, ref] of Object.entries(response.headers || {})) {
    const { node: header, pointer: hp } = resolve(ref, `${at}/headers/${escapePointer(name)}`);
    const raw = x.headers[name.toLowerCase()];
    if (raw === undefined) {
      if (header.required) errors.push(`required header ${name} is missing`);
      continue;
    }
    if (header.schema) {
      for (const e of schemaErrors(validatorAt(`${hp}/schema`), headerValue(header.schema, raw)))
        errors.push(`header ${name}: ${raw}: ${e}`);
    }
  }
  const type = x.headers['content-type'];
  const content = response.content;
  if (isHead || !content) {
    if (x.length !== 0) errors.push(`${isHead ? 'HEAD' : 'a response that declares no content'} has a body of ${x.length} bytes`);
    return errors;
  }
  if (!type) {
    if (x.length !== 0) errors.push('a body without Content-Type');
    return errors;
  }
  const found = contentFor(content, type);
  if (!found) {
    errors.push(`Content-Type ${type} is not declared (${Object.keys(content).join(', ')})`);
    return errors;
  }
  checkBody(x, found.media, `${at}/content/${escapePointer(found.declared)}`, type, errors);
  return errors;
}

function responsePointer(opPointer, responses, status) {
  const code = String(status);
  for (const key of [code, `${code[0]}XX`, 'default']) {
    if (responses[key]) return `${opPointer}/responses/${escapePointer(key)}`;
  }
  return null;
}

// The generic answers of info.description (see the top of this file).
function genericProblem(x, status, code, errors) {
  if (x.status !== status) return false;
  const type = x.headers['content-type'] || '';
  if (mediaEssence(type) !== 'application/problem+json') {
    errors.push(`Content-Type ${type} where application/problem+json is stated`);
    return true;
  }
  if (!x.headers['x-request-id']) errors.push('required header X-Request-Id is missing');
  if (!x.complete) return true;
  let value;
  try {
    value = JSON.parse(x.body);
  } catch {
    errors.push(`body is not JSON: ${x.body.slice(0, 200)}`);
    return true;
  }
  errors.push(...schemaErrors(validatorAt('/components/schemas/Problem'), value));
  errors.push(...undeclared(pointerGet('/components/schemas/Problem'), value));
  if (value?.code !== code) errors.push(`code ${value?.code} where ${code} is stated`);
  return true;
}

const refusedBeforeRouting = (x) =>
  x.status === 400 && /(^|,)\s*close\s*(,|$)/i.test(x.headers.connection || '');

// Returns [operation label, mismatches].
function validate(x) {
  const errors = [];
  let target = x.target;
  if (x.proxy_mount !== undefined) {
    if (!x.headers['x-request-id']) return [`(proxy's own answer: ${x.status})`, errors];
    if (target.startsWith(`${x.proxy_mount}/`)) target = target.slice(x.proxy_mount.length);
  }
  const template = matchPath(target);
  const method = x.method.toLowerCase();
  const item = template ? spec.paths[template] : null;
  let opMethod = item && METHODS.includes(method) && item[method] ? method : null;
  if (item && !opMethod && method === 'head' && item.get) opMethod = 'get';
  let op = opMethod ? item[opMethod] : null;
  let opPointer = op ? `/paths/${escapePointer(template)}/${opMethod}` : null;
  let label = op ? `${op.operationId || `${opMethod} ${template}`}${method === 'head' && opMethod === 'get' ? ' (HEAD)' : ''}` : '';
  // An operation that answers another's way when asked for its media type
  // (x-streamq-accept-alternative): such an answer is checked as that one's.
  const alt = op?.['x-streamq-accept-alternative'];
  const type = x.headers['content-type'] || '';
  if (alt && (x.accept || '').toLowerCase().includes(alt['media-type']) && mediaEssence(type) === alt['media-type']) {
    const found = operations.get(alt.operation);
    if (!found) return [label, [`x-streamq-accept-alternative names no operation ${alt.operation}`]];
    [op, opPointer] = [found.op, found.pointer];
    label = `${label} (as ${alt.operation})`;
  }
  const at = op ? responsePointer(opPointer, op.responses || {}, x.status) : null;
  if (at) return [label, checkResponse(x, at, method === 'head')];
  // Not a response the operation lists: one of the generic answers, or a mismatch.
  if (refusedBeforeRouting(x)) {
    genericProblem(x, 400, 'invalid_request', errors);
    return ['(refused before routing: 400)', errors];
  }
  if (x.status === 413) {
    genericProblem(x, 413, 'payload_too_large', errors);
    return ['(body over the limit, any request: 413)', errors];
  }
  if (!template) {
    if (!genericProblem(x, 404, 'not_found', errors)) errors.push(`${x.status} for a path openapi.yaml does not have`);
    return ['(no such path: 404)', errors];
  }
  if (!op) {
    if (!genericProblem(x, 405, 'method_not_allowed', errors)) {
      errors.push(`${x.status} for ${x.method}, which ${template} does not serve`);
    } else if (!x.headers.allow) {
      errors.push('405 without Allow');
    }
    return [`(${template} does not serve it: 405)`, errors];
  }
  errors.push(`status ${x.status} is not declared (${Object.keys(op.responses || {}).join(', ')})`);
  return [label, errors];
}

// ------------------------------------------------------------------ run

const counts = new Map();
const mismatches = [];
let total = 0;
let cut = 0; // bodies the client stopped reading (or longer than the log keeps): checked up to there
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.ndjson'))
  .sort();
for (const file of files) {
  const lines = readFileSync(path.join(dir, file), 'utf8').split('\n');
  lines.forEach((line, i) => {
    if (!line) return;
    let x;
    try {
      x = JSON.parse(line);
    } catch {
      mismatches.push(`${file}:${i + 1}: not a JSON line`);
      return;
    }
    total++;
    if (!x.complete) cut++;
    const [label, errors] = validate(x);
    const c = counts.get(label) || { ok: 0, bad: 0, statuses: new Set() };
    c.statuses.add(x.status);
    if (errors.length) {
      c.bad++;
      const body = x.complete ? x.body.slice(0, 300) : `${x.body.slice(0, 300)}…`;
      mismatches.push(
        `${file}:${i + 1}: ${x.method} ${x.target} -> ${x.status} ${x.headers['content-type'] || ''} [${label}]\n` +
          errors.map((e) => `    ${e}`).join('\n') +
          `\n    body: ${body}`,
      );
    } else {
      c.ok++;
    }
    counts.set(label, c);
  });
}

const width = Math.max(10, ...[...counts.keys()].map((k) => k.length));
for (const [label, c] of [...counts.entries()].sort((a, b) => a[0].localeCompare(b[0]))) {
  const statuses = [...c.statuses].sort().join(' ');
  console.log(`${label.padEnd(width)} ${String(c.ok).padStart(6)} valid${c.bad ? `, ${c.bad} MISMATCHED` : ''}  (${statuses})`);
}
const unexercised = [];
for (const [template, item] of Object.entries(spec.paths)) {
  for (const m of METHODS) if (item[m] && ![...counts.keys()].some((k) => k.startsWith(item[m].operationId || ' ')))
    unexercised.push(item[m].operationId || `${m} ${template}`);
}
if (unexercised.length) console.log(`operations no test called: ${unexercised.join(', ')}`);
for (const m of mismatches) console.error(m);
console.log(
  `contract: ${total - mismatches.length} of ${total} responses (${files.length} test processes) match openapi.yaml` +
    (mismatches.length ? `; ${mismatches.length} do not` : '') +
    (cut ? ` (${cut} bodies checked only as far as they were read)` : ''),
);
process.exit(mismatches.length ? 1 : 0);
