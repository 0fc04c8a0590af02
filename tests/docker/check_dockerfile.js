'use strict';
// Checks the Dockerfile without a Docker engine: a built-in lint (hadolint's
// rules that apply here; hadolint itself is in neither Debian 12 nor npm), then
// the runtime stage's steps run on this Debian machine: its packages exist, they
// provide every shared library the release binary loads, the ENTRYPOINT/CMD
// serves as the image's user with the image's environment, and the HEALTHCHECK
// command passes against it (and fails once it is stopped).
// Usage: node check_dockerfile.js (STREAMQ_RELEASE_BIN and PG* set, as in scripts/test)
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const YAML = require('yaml');
const lib = require('./lib');
const { expect, run } = lib;

const bin = lib.releaseBinary();
const { stages } = lib.dockerfile();
const final = stages[stages.length - 1];
const of = (stage, keyword) => stage.instructions.filter((i) => i.keyword === keyword);
const json = (ins) => { try { return JSON.parse(ins.text); } catch { return null; } };

// ---- lint
const names = stages.map((s) => s.name).filter(Boolean);
expect(stages.length >= 2, 'multi-stage: a build stage and a runtime stage');
expect(new Set(names).size === names.length, 'DL3024: stage names are unique');
stages.forEach((stage, n) => {
  const where = `stage ${stage.name || n}`;
  expect(stage.tag && stage.tag !== 'latest', `DL3006/DL3007: ${where} pins a tag of ${stage.image}`);
  expect(stage.image === 'debian', `${where} is Debian (${stage.image})`);
  for (const ins of of(stage, 'RUN')) {
    const t = ins.text;
    expect(!/(^|[\s;&|])apt\s/.test(t), `DL3027: ${where} uses apt-get, not apt`);
    expect(!/(^|[\s;&|])sudo\s/.test(t), `DL3004: ${where} does not use sudo`);
    expect(!/(^|[\s;&|])cd\s/.test(t), `DL3003: ${where} uses WORKDIR, not cd`);
    expect(!/[^|]\|[^|]/.test(t) || /pipefail/.test(t), `DL4006: ${where} sets pipefail before a pipe`);
    if (/apt-get\s+install/.test(t)) {
      expect(/apt-get\s+update/.test(t), `${where}: apt-get update in the same RUN as install`);
      expect(/\s-y\b/.test(t), `DL3014: ${where}: apt-get install -y`);
      expect(/--no-install-recommends/.test(t), `DL3015: ${where}: --no-install-recommends`);
      expect(/rm -rf \/var\/lib\/apt\/lists\/\*/.test(t), `DL3009: ${where} deletes the apt lists`);
    }
  }
  for (const ins of of(stage, 'WORKDIR')) expect(ins.text.startsWith('/'), `DL3000: ${where}: WORKDIR ${ins.text} is absolute`);
  expect(of(stage, 'MAINTAINER').length === 0, `DL4000: ${where} has no MAINTAINER`);
  expect(of(stage, 'ADD').length === 0, `DL3020: ${where} uses COPY, not ADD`);
  for (const k of ['CMD', 'ENTRYPOINT', 'HEALTHCHECK']) expect(of(stage, k).length <= 1, `DL4003/DL4004/DL3012: ${where} has one ${k} at most`);
  for (const ins of of(stage, 'COPY')) {
    const from = (ins.text.match(/--from=(\S+)/) || [])[1];
    if (from) expect(names.slice(0, n).includes(from), `DL3022/DL3023: ${where}: COPY --from=${from} names an earlier stage`);
  }
});
for (const k of ['CMD', 'ENTRYPOINT']) {
  for (const ins of of(final, k)) expect(Array.isArray(json(ins)), `DL3025: ${k} is in JSON form`);
}
const ignore = fs.existsSync(path.join(lib.root, '.dockerignore')) ? fs.readFileSync(path.join(lib.root, '.dockerignore'), 'utf8') : '';
expect(/^build\*/m.test(ignore) && /node_modules/.test(ignore) && /^\.git$/m.test(ignore),
  '.dockerignore keeps build directories, node_modules and .git out of the build context');

// ---- the runtime user
const users = of(final, 'USER').map((i) => i.text.split(':')[0]);
const user = users[users.length - 1];
expect(user !== undefined && user !== 'root' && user !== '0', `DL3002: the runtime stage ends as a non-root USER (${user})`);
const useradd = of(final, 'RUN').map((i) => i.text.match(/useradd\b[^&;]*--uid (\d+)[^&;]*\s(\S+)\s*(?:&&|$)/)).find(Boolean);
expect(useradd && useradd[2] === user, `the runtime stage creates its USER ${user} with useradd --uid`);
const uid = useradd ? Number(useradd[1]) : 65534;

// ---- the build stage has what meson.build needs
const build = stages.find((s) => of(s, 'RUN').some((i) => /meson setup/.test(i.text)));
if (expect(build !== undefined, 'a stage runs meson setup')) {
  const setup = of(build, 'RUN').find((i) => /meson setup/.test(i.text)).text;
  expect(/-Dtests=false/.test(setup) && /-Dbuildtype=release/.test(setup), 'the image is built as release, without tests');
  const have = lib.closure(lib.aptInstalls(build));
  const meson = fs.readFileSync(path.join(lib.root, 'meson.build'), 'utf8');
  const wanted = new Map(); // what the build uses -> the file that provides it here
  for (const [, dep] of meson.matchAll(/dependency\('([^']+)'/g)) {
    if (dep === 'threads') continue;
    const dir = run('pkg-config', ['--variable=pcfiledir', dep]).stdout.trim();
    wanted.set(`dependency('${dep}')`, path.join(dir || '/nonexistent', `${dep}.pc`));
  }
  for (const tool of ['meson', 'ninja', 'pkg-config', 'cc']) {
    wanted.set(tool, run('sh', ['-c', `command -v ${tool}`]).stdout.trim() || '/nonexistent');
  }
  const owners = lib.packagesOf([...wanted.values()].filter((f) => fs.existsSync(f)));
  for (const [what, file] of wanted) {
    const pkg = owners.get(file);
    expect(pkg && have.has(pkg), `build stage: ${what} comes from ${pkg}, which it installs`);
  }
}

// ---- the runtime packages, against this Debian and the release binary
const release = fs.readFileSync('/etc/os-release', 'utf8').match(/^VERSION_ID="?(\d+)/m);
expect(release && final.tag.split('-')[0] === release[1], `the runtime image (debian:${final.tag}) is this machine's Debian ${release && release[1]}`);
const runtimePkgs = lib.aptInstalls(final);
for (const [p, known] of lib.aptKnows(runtimePkgs)) expect(known, `runtime package ${p} exists in Debian`);
const base = lib.basePackages();
const runtime = lib.closure([...runtimePkgs, ...base]);
const listed = new Set(runtimePkgs);
const needed = run('readelf', ['-d', bin]).stdout.match(/NEEDED.*\[(.*)\]/g).map((l) => l.match(/\[(.*)\]/)[1]);
const loaded = new Map(); // soname -> file, every library ldd resolves
for (const line of run('ldd', [bin]).stdout.split('\n')) {
  const m = line.match(/^\s*(\S+)\s+=>\s+(\/\S+)/) || line.match(/^\s*(\/\S+)\s+\(/);
  if (m) loaded.set(m[2] ? m[1] : path.basename(m[1]), m[2] || m[1]);
}
for (const soname of needed) expect(loaded.has(soname), `ldd resolves ${soname}, which streamq links`);
const owners = lib.packagesOf([...loaded.values()]);
const linking = new Set(); // the packages of the libraries streamq links itself
for (const [soname, file] of loaded) {
  const pkg = owners.get(file);
  expect(pkg !== null, `${file} (${soname}) belongs to a Debian package`);
  if (!pkg) continue;
  if (needed.includes(soname)) {
    linking.add(pkg);
    expect(listed.has(pkg) || base.has(pkg), `${soname}, which streamq links, is installed by the runtime stage or the base image (${pkg})`);
  } else {
    expect(runtime.has(pkg), `${soname} (${pkg}) comes with the runtime stage's packages`);
  }
}

// ---- ENTRYPOINT, CMD and HEALTHCHECK, run as the image would
const entrypoint = json(of(final, 'ENTRYPOINT')[0] || { text: '' }) || [];
const cmd = json(of(final, 'CMD')[0] || { text: '' }) || [];
// Each runtime package earns its place: a library streamq links, the HEALTHCHECK's
// program, or the CA certificates that webhooks to https:// URLs are verified with.
const probeTool = (of(final, 'HEALTHCHECK')[0]?.text.match(/CMD\s+(?:\[\s*")?([\w.-]+)/) || [])[1];
const toolAt = probeTool ? run('sh', ['-c', `command -v ${probeTool}`]).stdout.trim() : '';
const toolPkg = toolAt ? lib.packagesOf([toolAt]).get(toolAt) : null;
expect(toolPkg !== null && listed.has(toolPkg), `the HEALTHCHECK's program ${probeTool} is installed by the runtime stage (${toolPkg})`);
for (const p of listed) {
  expect(linking.has(p) || p === toolPkg || p === 'ca-certificates', `runtime package ${p} is needed (a library streamq links, the HEALTHCHECK's program, or ca-certificates)`);
}
const copied = of(final, 'COPY').map((i) => i.text.split(/\s+/)).find((w) => w[w.length - 1] === entrypoint[0]);
expect(copied && copied.some((w) => w.startsWith('--from=')), `ENTRYPOINT ${entrypoint[0]} is the binary the build stage made`);
const help = run(bin, ['--help']);
expect(help.status === 0 && /usage: streamq/.test(help.stdout), 'streamq --help runs (exit 0, usage)');
const version = run(bin, ['--version']);
const projectVersion = fs.readFileSync(path.join(lib.root, 'meson.build'), 'utf8').match(/version\s*:\s*'([^']+)'/)[1];
expect(version.status === 0 && version.stdout.trim() === `streamq ${projectVersion}`, `streamq --version prints streamq ${projectVersion}`);

const env = {};
for (const ins of of(final, 'ENV')) for (const [, k, v] of ins.text.matchAll(/(\w+)=(\S+)/g)) env[k] = v;
const listen = (env.STREAMQ_LISTEN || '127.0.0.1:8080').split(':');
const exposed = of(final, 'EXPOSE').map((i) => i.text.split('/')[0]);
expect(exposed.includes(listen[1]), `EXPOSE ${exposed} is the port STREAMQ_LISTEN serves (${listen[1]})`);
const healthcheck = of(final, 'HEALTHCHECK')[0];
const probe = healthcheck ? healthcheck.text.replace(/^(--\S+\s+)*CMD\s+/, '') : '';
const url = (probe.match(/https?:\/\/[^\s"']+/) || [''])[0];
expect(url !== '', 'the runtime stage has a HEALTHCHECK with a URL');
const target = url ? new URL(url) : null;
const spec = YAML.parse(fs.readFileSync(path.join(lib.root, 'openapi.yaml'), 'utf8'));
expect(target && target.port === listen[1] && ['127.0.0.1', 'localhost'].includes(target.hostname),
  `the HEALTHCHECK asks the container's own port (${url})`);
expect(target && spec.paths[target.pathname] && spec.paths[target.pathname].get, `the HEALTHCHECK path ${target && target.pathname} is a GET route of openapi.yaml`);

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'streamq-docker-'));
fs.chmodSync(work, 0o777);
const portFile = path.join(work, 'port');
const serveEnv = { ...process.env, ...env, STREAMQ_LISTEN: '127.0.0.1:0', STREAMQ_PORT_FILE: portFile,
  STREAMQ_SCHEMA: `docker_${process.pid}`, STREAMQ_LOG_LEVEL: 'warn' };
// As the image's USER (its uid) when this runs as root, the way the container runs.
const asUser = process.getuid() === 0 ? ['setpriv', `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups'] : [];
const argv = [...asUser, bin, ...entrypoint.slice(1), ...cmd];
const { spawn } = require('node:child_process');
const log = fs.openSync(path.join(work, 'streamq.log'), 'w');
const child = spawn(argv[0], argv.slice(1), { env: serveEnv, stdio: ['ignore', log, log] });
let exited = null;
child.on('exit', (code, signal) => (exited = { code, signal }));

(async () => {
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  for (let i = 0; i < 600 && exited === null && !(fs.existsSync(portFile) && fs.readFileSync(portFile, 'utf8').trim()); i++) await sleep(100);
  const port = fs.existsSync(portFile) ? fs.readFileSync(portFile, 'utf8').trim() : '';
  const logText = () => fs.readFileSync(path.join(work, 'streamq.log'), 'utf8');
  if (expect(port !== '' && exited === null, `ENTRYPOINT + CMD (${[...entrypoint, ...cmd].join(' ')}) serves as uid ${uid}; log: ${port ? '' : logText()}`)) {
    const live = probe.replace(url, url.replace(`:${listen[1]}`, `:${port}`));
    expect(run('sh', ['-c', live], { cwd: work }).status === 0, `the HEALTHCHECK command passes against the live service: ${live}`);
    child.kill('SIGTERM');
    for (let i = 0; i < 300 && exited === null; i++) await sleep(100);
    expect(exited && exited.code === 0, `SIGTERM (docker stop) ends it with status 0 (${JSON.stringify(exited)})`);
    expect(run('sh', ['-c', live], { cwd: work }).status !== 0, 'the HEALTHCHECK command fails once the service is stopped');
  }
  if (exited === null) child.kill('SIGKILL');
  fs.rmSync(work, { recursive: true, force: true });
  lib.finish('dockerfile');
})();
