'use strict';
// Checks deploy/compose.yaml's structure without a Docker engine: it parses as
// YAML, its services, dependencies and healthchecks hang together, the streamq
// services set only variables streamq reads and reach the PostgreSQL service with
// its credentials, and nginx gets deploy/nginx/streamq.conf, whose upstream
// servers are exactly the streamq instances.
// Usage: node check_compose.js (STREAMQ_RELEASE_BIN set, as in scripts/test)
const fs = require('node:fs');
const path = require('node:path');
const YAML = require('yaml');
const lib = require('./lib');
const { expect } = lib;

const dir = path.join(lib.root, 'deploy');
const doc = YAML.parseDocument(fs.readFileSync(path.join(dir, 'compose.yaml'), 'utf8'), { merge: true, uniqueKeys: true });
expect(doc.errors.length === 0 && doc.warnings.length === 0, `compose.yaml parses cleanly: ${[...doc.errors, ...doc.warnings].map(String)}`);
const compose = doc.toJS({ maxAliasCount: 100 }) || {};
const services = compose.services || {};
const documented = lib.documentedEnv(lib.releaseBinary());
const { stages } = lib.dockerfile();
const final = stages[stages.length - 1];
const imageProbe = (final.instructions.find((i) => i.keyword === 'HEALTHCHECK') || { text: '' }).text;

for (const key of Object.keys(compose)) {
  expect(['name', 'services', 'volumes', 'networks'].includes(key) || key.startsWith('x-'), `top-level key ${key} is one compose knows`);
}
const env = (svc) => (Array.isArray(svc.environment)
  ? Object.fromEntries(svc.environment.map((e) => [e.split('=')[0], e.slice(e.indexOf('=') + 1)]))
  : svc.environment || {});
const duration = /^(\d+(ms|s|m|h))+$/;
const portOf = (text) => { const m = String(text).match(/https?:\/\/[^/:\s]+:(\d+)\//); return m ? m[1] : null; };

const streamq = Object.entries(services).filter(([, s]) => s.build);
const postgres = Object.entries(services).find(([, s]) => /^postgres:\d/.test(s.image || ''));
const nginx = Object.entries(services).find(([, s]) => /^nginx:\d/.test(s.image || ''));
expect(streamq.length === 2, `two streamq services built from the Dockerfile (${streamq.map(([n]) => n)})`);
expect(postgres !== undefined, 'a PostgreSQL service with a pinned major version');
expect(nginx !== undefined, 'an nginx service with a pinned version');
const healthchecked = (name) => Boolean(services[name] && (services[name].healthcheck || (services[name].build && imageProbe)));

for (const [name, svc] of Object.entries(services)) {
  expect(Boolean(svc.image || svc.build), `${name} has an image or a build`);
  const deps = Array.isArray(svc.depends_on) ? Object.fromEntries(svc.depends_on.map((d) => [d, {}])) : svc.depends_on || {};
  for (const [dep, how] of Object.entries(deps)) {
    expect(dep in services, `${name} depends on ${dep}, a service of this file`);
    const condition = how.condition || 'service_started';
    expect(['service_started', 'service_healthy', 'service_completed_successfully'].includes(condition), `${name}: depends_on ${dep} has a known condition (${condition})`);
    if (condition === 'service_healthy') expect(healthchecked(dep), `${name} waits for ${dep} to be healthy, and ${dep} has a healthcheck`);
  }
  const hc = svc.healthcheck;
  if (hc) {
    expect(Array.isArray(hc.test) ? ['CMD', 'CMD-SHELL'].includes(hc.test[0]) : typeof hc.test === 'string', `${name}: healthcheck test is CMD/CMD-SHELL or a string`);
    for (const k of ['interval', 'timeout', 'start_period']) if (hc[k] !== undefined) expect(duration.test(hc[k]), `${name}: healthcheck ${k} ${hc[k]} is a duration`);
  }
  for (const v of svc.volumes || []) {
    const source = String(v).split(':')[0];
    if (source.startsWith('.')) expect(fs.existsSync(path.join(dir, source)), `${name}: mounted ${source} exists`);
    else expect(compose.volumes && source in compose.volumes, `${name}: volume ${source} is declared`);
  }
  const mode = svc.network_mode;
  if (mode && mode.startsWith('service:')) {
    const host = mode.slice('service:'.length);
    expect(host in services && deps[host], `${name} shares ${host}'s network namespace and depends on it`);
  }
}

// streamq: what it reads, where its database is, where it listens.
const pgEnv = postgres ? env(postgres[1]) : {};
const listens = [];
for (const [name, svc] of streamq) {
  const vars = env(svc);
  for (const k of Object.keys(vars)) expect(documented.has(k), `${name} sets ${k}, which streamq --help documents`);
  expect(path.resolve(dir, svc.build.context || '.', svc.build.dockerfile || 'Dockerfile') === path.join(lib.root, 'Dockerfile'),
    `${name} builds the repository's Dockerfile`);
  const url = vars.STREAMQ_DATABASE_URL || vars.DATABASE_URL;
  if (expect(Boolean(url), `${name} names its database`) && postgres) {
    const u = new URL(url);
    expect(u.hostname === postgres[0] && ['', '5432'].includes(u.port), `${name}'s database host ${u.hostname} is the ${postgres[0]} service`);
    expect(decodeURIComponent(u.username) === (pgEnv.POSTGRES_USER || 'postgres') && decodeURIComponent(u.password) === pgEnv.POSTGRES_PASSWORD &&
      u.pathname.slice(1) === (pgEnv.POSTGRES_DB || pgEnv.POSTGRES_USER || 'postgres'), `${name} uses the ${postgres[0]} service's user, password and database`);
    const dep = (svc.depends_on || {})[postgres[0]];
    expect(dep && dep.condition === 'service_healthy', `${name} starts once ${postgres[0]} is healthy`);
  }
  const listen = vars.STREAMQ_LISTEN || '127.0.0.1:8080';
  listens.push(listen);
  const own = svc.healthcheck ? (Array.isArray(svc.healthcheck.test) ? svc.healthcheck.test.join(' ') : svc.healthcheck.test) : imageProbe;
  expect(portOf(own) === listen.split(':')[1], `${name}'s healthcheck (${svc.healthcheck ? 'its own' : "the image's"}) asks the port it listens on (${listen})`);
  if (listen.startsWith('127.0.0.1:') && nginx) {
    expect(svc.network_mode === `service:${nginx[0]}`, `${name} listens on loopback, so it shares ${nginx[0]}'s network namespace`);
  }
}
expect(new Set(listens).size === listens.length, `the streamq services listen on distinct addresses (${listens})`);

// nginx: the config of deploy/nginx, whose upstreams are the instances.
if (nginx) {
  const mount = (nginx[1].volumes || []).map(String).find((v) => v.startsWith('./nginx/streamq.conf:'));
  expect(mount && /^\/etc\/nginx\/conf\.d\/[\w.-]+\.conf(:ro)?$/.test(mount.slice(mount.indexOf(':') + 1)), `nginx mounts deploy/nginx/streamq.conf into conf.d (${mount})`);
  const conf = fs.readFileSync(path.join(dir, 'nginx/streamq.conf'), 'utf8');
  const upstream = (conf.match(/upstream streamq \{([^}]*)\}/) || ['', ''])[1];
  const servers = [...upstream.matchAll(/^\s*server\s+(\S+?);/gm)].map((m) => m[1]);
  expect(JSON.stringify([...servers].sort()) === JSON.stringify([...listens].sort()), `streamq.conf's upstream servers (${servers}) are the streamq services (${listens})`);
  const listenPort = (conf.match(/^\s*listen\s+(\d+)/m) || [])[1];
  expect((nginx[1].ports || []).some((p) => String(p).split(':').pop() === listenPort), `nginx publishes the port streamq.conf listens on (${listenPort})`);
}
if (postgres) {
  const hc = postgres[1].healthcheck;
  expect(Boolean(hc) && /pg_isready/.test([].concat(hc.test).join(' ')), `${postgres[0]}'s healthcheck runs pg_isready`);
  expect((postgres[1].volumes || []).some((v) => String(v).endsWith(':/var/lib/postgresql/data')), `${postgres[0]} keeps its data in a volume`);
  expect(Boolean(pgEnv.POSTGRES_PASSWORD), `${postgres[0]} sets POSTGRES_PASSWORD (the image refuses to start without one)`);
}
lib.finish('compose');
