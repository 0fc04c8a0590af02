'use strict';
// Shared by check_dockerfile.js and check_compose.js: failures, commands, the
// parsed Dockerfile, and the Debian package facts both rely on.
const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { DockerfileParser } = require('dockerfile-ast');

const root = path.resolve(__dirname, '../..');
const problems = [];
let checks = 0;

// Records one check; a false one is reported at the end (all are run).
function expect(cond, what) {
  checks++;
  if (!cond) problems.push(what);
  return cond;
}

function finish(name) {
  for (const p of problems) console.log(`${name}: FAILED: ${p}`);
  console.log(`${name}: ${checks - problems.length} passed, ${problems.length} failed`);
  process.exit(problems.length ? 1 : 0);
}

// Runs a command; returns {status, stdout, stderr} (never throws).
function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 120000, ...opts });
  return { status: r.status, stdout: r.stdout || '', stderr: r.stderr || '' };
}

function releaseBinary() {
  const bin = process.env.STREAMQ_RELEASE_BIN;
  if (!bin || !fs.existsSync(bin)) {
    console.error('STREAMQ_RELEASE_BIN must name a release build of streamq (scripts/test sets it)');
    process.exit(1);
  }
  return bin;
}

// The Dockerfile's stages: name, base image, and instructions as {keyword, text, node}.
function dockerfile() {
  const text = fs.readFileSync(path.join(root, 'Dockerfile'), 'utf8');
  const df = DockerfileParser.parse(text);
  const stages = [];
  for (const ins of df.getInstructions()) {
    const keyword = ins.getKeyword();
    if (keyword === 'FROM') {
      stages.push({ name: ins.getBuildStage(), image: ins.getImageName(), tag: ins.getImageTag(), from: ins, instructions: [] });
    }
    const flags = typeof ins.getFlags === 'function' ? ins.getFlags().map((f) => `--${f.getName()}=${f.getValue()} `).join('') : '';
    if (stages.length) stages[stages.length - 1].instructions.push({ keyword, text: flags + (ins.getArgumentsContent() || ''), node: ins });
  }
  return { df, stages };
}

// The packages an `apt-get install` in these RUN texts names.
function aptInstalls(stage) {
  const pkgs = [];
  for (const ins of stage.instructions.filter((i) => i.keyword === 'RUN')) {
    for (const m of ins.text.matchAll(/apt-get\s+install\s+([^&;|]*)/g)) {
      pkgs.push(...m[1].split(/\s+/).filter((w) => w && !w.startsWith('-')));
    }
  }
  return pkgs;
}

// Every package these install, with all they depend on.
function closure(pkgs) {
  const r = run('apt-cache', ['depends', '--recurse', '--no-recommends', '--no-suggests', '--no-conflicts',
    '--no-breaks', '--no-replaces', '--no-enhances', ...pkgs]);
  return new Set(r.stdout.split('\n').filter((l) => /^[a-z0-9]/.test(l)).map((l) => l.trim()));
}

// What a debian image starts with: the Essential and required packages and what they depend on.
function basePackages() {
  const base = run('dpkg-query', ['-W', '-f', '${Package} ${Essential} ${Priority}\n']).stdout.split('\n')
    .map((l) => l.split(' ')).filter(([, essential, priority]) => essential === 'yes' || priority === 'required')
    .map(([name]) => name);
  return closure(base);
}

// The Debian packages that installed these files (usrmerge: tried as /usr/lib and /lib):
// a Map from each file to its package, or to null.
function packagesOf(files) {
  const found = new Map();
  const forms = (f) => { const real = fs.realpathSync(f); return [f, real, real.replace(/^\/usr\//, '/')]; };
  const all = [...new Set(files.flatMap(forms))];
  const owner = new Map();
  for (const line of run('dpkg', ['-S', ...all]).stdout.split('\n')) {
    const m = line.match(/^([^\s:,]+)[^\s,]*(?:, [^:]+)?: (\/.*)$/); // "pkg:arch[, other]: /path"
    if (m && !line.startsWith('diversion')) owner.set(m[2], m[1]);
  }
  for (const f of files) found.set(f, forms(f).map((x) => owner.get(x)).find(Boolean) || null);
  return found;
}

// Whether apt knows each package (Map name -> bool); updates the lists once when it does not.
function aptKnows(pkgs) {
  const known = () => new Map(pkgs.map((p) => [p, false]));
  const look = () => {
    const m = known();
    const out = run('apt-cache', ['show', '--no-all-versions', ...pkgs]).stdout;
    for (const [, name] of out.matchAll(/^Package: (\S+)$/gm)) if (m.has(name)) m.set(name, true);
    return m;
  };
  let m = look();
  if ([...m.values()].some((v) => !v) && process.getuid && process.getuid() === 0) {
    run('apt-get', ['update', '-q'], { timeout: 300000 });
    m = look();
  }
  return m;
}

// The environment variables `streamq --help` documents.
function documentedEnv(bin) {
  const help = execFileSync(bin, ['--help'], { encoding: 'utf8' });
  return new Set([...help.matchAll(/\b(STREAMQ_[A-Z_]+)\b/g)].map((m) => m[1]).concat(['DATABASE_URL']));
}

module.exports = { root, expect, finish, run, releaseBinary, dockerfile, aptInstalls, closure, basePackages, packagesOf, aptKnows, documentedEnv };
