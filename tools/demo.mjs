#!/usr/bin/env node
// `npm run demo`: a small local Clare fleet on this machine.
//
// Three daemons (desk, build, laptop) on free loopback ports, each with its own
// XDG config and data dirs in one temp dir, its own rclaude stand-in host (its
// own tmux server) with a few fake agent sessions, peered with the other two in
// clare.toml, and some sample projects, tasks, groups and assignments. It prints
// the dashboard URLs and CLI commands to try, then waits. Ctrl-C (SIGINT or
// SIGTERM) stops the daemons, kills the tmux servers and removes the temp dir:
// nothing is left running.
//
// `--check`: start everything, check that every daemon answers and lists its
// sessions and that an assignment was typed into its session, tear down, and exit
// 0 (1 on failure). For tests and CI.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { poll } from '../test/helpers/poll.mjs';

const ROOT = resolve(import.meta.dirname, '..');
const CLI = join(ROOT, 'dist/cli/clare.js');
const STANDIN_DIR = join(ROOT, 'test/fixtures/rclaude');
const RCLAUDE = join(STANDIN_DIR, 'rclaude');
const CHECK = process.argv.includes('--check');

/** The fleet: per host, its sessions (name → project dir under work/). */
const HOSTS = [
  { name: 'desk', sessions: { 'api-1': 'api', 'api-2': 'api', 'web-1': 'web' } },
  { name: 'build', sessions: { 'ci-1': 'ci', 'api-3': 'api' } },
  { name: 'laptop', sessions: { 'docs-1': 'docs', scratch: 'docs' } },
];

/** Sample data, created on the daemon of `host`; the first task of each is assigned to `assign`. */
const SAMPLES = [
  {
    host: 'desk',
    projects: [
      { name: 'api', dir: 'api', description: 'The public HTTP API', tasks: [
        { title: 'Fix the login redirect loop', description: 'Users bounce between /login and /home after the cookie expires.', priority: 0, assign: 'desk:api-1' },
        { title: 'Add rate limiting to /search', priority: 1 },
        { title: 'Write the v2 migration guide', priority: 3 },
      ] },
      { name: 'web', dir: 'web', description: 'The dashboard front end', tasks: [
        { title: 'Dark mode for the settings page', priority: 2 },
        { title: 'Fix the flaky date-picker test', priority: 1 },
      ] },
    ],
    groups: { all: ['*:*'], api: ['*:api-*'], desk: ['desk:*'] },
  },
  {
    host: 'build',
    projects: [
      { name: 'ci', dir: 'ci', description: 'Build and release pipeline', tasks: [
        { title: 'Cache node_modules between CI runs', priority: 1, assign: 'build:ci-1' },
        { title: 'Sign the release artifacts', priority: 2 },
      ] },
    ],
    groups: {},
  },
  {
    host: 'laptop',
    projects: [
      { name: 'docs', dir: 'docs', description: 'User documentation', tasks: [
        { title: 'Document the mesh set-up', priority: 2, assign: 'laptop:docs-1' },
      ] },
    ],
    groups: {},
  },
];

const log = (s = '') => process.stdout.write(`${s}\n`);

async function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => res(typeof a === 'object' && a !== null ? a.port : 0));
    });
  });
}

/** Waits for `check` (test/helpers/poll.mjs, the tests' waiting too), 15 s unless told. */
const waitFor = (what, check, timeoutMs = 15_000) => poll(what, check, timeoutMs, 50);

async function api(h, method, path, body) {
  const r = await fetch(`${h.url}/api/v1${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await r.text();
  const json = text === '' ? null : JSON.parse(text);
  if (r.status >= 300) throw new Error(`${h.name}: ${method} ${path} → ${r.status} ${json?.error?.message ?? text}`);
  return json;
}

// ---------------------------------------------------------------- teardown

const hosts = [];
let root = null;
let tearingDown = null;

function stopChild(child) {
  if (child === null || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((res) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(timer);
      res();
    });
    child.kill('SIGTERM');
  });
}

/** Stops the daemons, then the tmux servers, then removes the temp dir. Idempotent. */
function teardown() {
  tearingDown ??= (async () => {
    await Promise.all(hosts.map((h) => stopChild(h.child)));
    for (const h of hosts) spawnSync(RCLAUDE, ['_kill-all'], { env: h.env, timeout: 15_000 });
    if (root !== null) rmSync(root, { recursive: true, force: true });
  })();
  return tearingDown;
}

let interrupted = false;
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    if (interrupted) return;
    interrupted = true;
    log(`\n${sig}: stopping the demo fleet…`);
    teardown().then(() => {
      log('stopped; nothing left running.');
      process.exit(0);
    }, (e) => {
      process.stderr.write(`demo: teardown failed: ${e.stack ?? e}\n`);
      process.exit(1);
    });
  });
}

// ---------------------------------------------------------------- set-up

async function setUp() {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first (npm run demo does)`);
  root = mkdtempSync(join(tmpdir(), 'clare-demo-'));
  for (const d of ['api', 'web', 'ci', 'docs']) mkdirSync(join(root, 'work', d), { recursive: true });
  for (const spec of HOSTS) {
    const dir = join(root, spec.name);
    const port = await freePort();
    const env = {
      ...process.env,
      XDG_CONFIG_HOME: join(dir, 'config'),
      XDG_DATA_HOME: join(dir, 'data'),
      PATH: `${STANDIN_DIR}:${process.env.PATH ?? ''}`,
      RCLAUDE_HOST: spec.name,
      RCLAUDE_STATE_DIR: join(dir, 'rclaude'),
      RCLAUDE_TMUX_SOCKET: join(dir, 'tmux.sock'),
      // Slow enough to see agents go working → idle on the dashboard.
      RCLAUDE_STANDIN_WORK_MS: '2500',
      CLARE_LOG_LEVEL: 'info',
    };
    delete env.CLARE_URL;
    delete env.CLARE_RCLAUDE;
    delete env.RCLAUDE_STANDIN_FAULT;
    hosts.push({ ...spec, dir, port, env, url: `http://127.0.0.1:${port}`, child: null, logFile: join(dir, 'daemon.log') });
  }
  for (const h of hosts) {
    const r = spawnSync(process.execPath, [CLI, 'init', '--name', h.name], { env: h.env, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`clare init ${h.name}: ${r.stderr}`);
    const file = join(h.dir, 'config', 'clare', 'clare.toml');
    const peers = hosts.filter((o) => o !== h).map((o) => JSON.stringify(o.url)).join(', ');
    const toml = readFileSync(file, 'utf8')
      .replace('port = 8765', `port = ${h.port}`)
      .replace(/^peers = \[\]/m, `peers = [${peers}]`)
      .replace('poll_interval_s = 10', 'poll_interval_s = 2');
    writeFileSync(file, toml);
  }
  for (const h of hosts) {
    const fd = openSync(h.logFile, 'a');
    // Own process group: a Ctrl-C in the terminal reaches only this script, which
    // then stops the daemons in order (daemons first, then their tmux servers).
    h.child = spawn(process.execPath, [CLI, 'serve'], { env: h.env, stdio: ['ignore', 'ignore', fd], detached: true });
    closeSync(fd);
    h.child.once('exit', (code, signal) => {
      if (tearingDown === null) process.stderr.write(`demo: the ${h.name} daemon exited (${code ?? signal}); see ${h.logFile}\n`);
    });
  }
  await Promise.all(hosts.map((h) => waitFor(`the ${h.name} daemon on ${h.url} (log: ${h.logFile})`, async () => {
    if (h.child.exitCode !== null) throw new Error(`it exited with ${h.child.exitCode}: ${readFileSync(h.logFile, 'utf8').slice(-2000)}`);
    const s = await api(h, 'GET', '/status').catch(() => null);
    return s?.machine?.name === h.name;
  })));
  // Sessions through the daemons (rclaude spawn, then a pull records them).
  await Promise.all(hosts.map(async (h) => {
    for (const [session, project] of Object.entries(h.sessions)) {
      await api(h, 'POST', '/sessions', { host: h.name, session, cwd: join(root, 'work', project) });
    }
  }));
  const assignments = [];
  for (const s of SAMPLES) {
    const h = hosts.find((x) => x.name === s.host);
    for (const p of s.projects) {
      await api(h, 'POST', '/projects', { name: p.name, path: join(root, 'work', p.dir), description: p.description });
      for (const t of p.tasks) {
        const task = await api(h, 'POST', '/tasks', { project: p.name, title: t.title, description: t.description ?? '', priority: t.priority });
        if (t.assign !== undefined) assignments.push({ h, a: await api(h, 'POST', '/assignments', { task: task.id, session: t.assign }) });
      }
    }
    for (const [name, members] of Object.entries(s.groups)) await api(h, 'POST', '/groups', { name, members });
  }
  return assignments;
}

function printGuide() {
  const desk = hosts[0];
  const sh = (s) => (/^[A-Za-z0-9_./:=@-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`);
  log(`Clare demo fleet is up: ${hosts.length} daemons, ${hosts.reduce((n, h) => n + Object.keys(h.sessions).length, 0)} agent sessions (rclaude stand-in over tmux).`);
  log(`Everything lives in ${root}\n`);
  for (const h of hosts) log(`  ${h.name.padEnd(7)} dashboard ${h.url}/   sessions: ${Object.keys(h.sessions).join(' ')}   log: ${h.logFile}`);
  log(`\nThe daemons list each other as peers in clare.toml; they replicate once the replication part is in.`);
  log(`\nUse the CLI as ${desk.name} (in another terminal):`);
  log(`  export XDG_CONFIG_HOME=${sh(desk.env.XDG_CONFIG_HOME)} XDG_DATA_HOME=${sh(desk.env.XDG_DATA_HOME)}`);
  log(`  alias clare=${sh(`node ${CLI}`)}`);
  log('  clare status                         # sessions per host, their state, idle time and task');
  log('  clare task list; clare next          # tasks, and what is ready to work on');
  log(`  clare peek ${desk.name}:api-1                # the screen of a session (the assignment was typed there)`);
  log(`  clare assign "Add rate limiting to /search" ${desk.name}:api-2`);
  log('  clare assign "Dark mode for the settings page" --auto');
  log('  clare broadcast all "please commit your work" --ttl 10m; clare updates');
  log('  clare group list; clare pull; clare assignments');
  log(`\nTalk to another daemon with CLARE_URL, e.g.  CLARE_URL=${hosts[1].url} clare status`);
  log(`Watch a session live:  tmux -S ${sh(desk.env.RCLAUDE_TMUX_SOCKET)} attach -t api-1    (detach: Ctrl-b d)`);
  log(`Drive ${desk.name}'s rclaude stand-in directly:`);
  log(`  PATH=${sh(STANDIN_DIR)}:"$PATH" RCLAUDE_HOST=${desk.name} RCLAUDE_STATE_DIR=${sh(desk.env.RCLAUDE_STATE_DIR)} RCLAUDE_TMUX_SOCKET=${sh(desk.env.RCLAUDE_TMUX_SOCKET)} rclaude _claude-projects --sessions`);
  log(`\nCtrl-C stops the daemons and the sessions and removes ${root}.`);
}

async function check(assignments) {
  for (const h of hosts) {
    const s = await api(h, 'GET', '/status');
    if (s.machine.name !== h.name) throw new Error(`${h.url} says it is ${s.machine.name}, not ${h.name}`);
    const listed = (await api(h, 'GET', `/sessions?host=${h.name}`)).items.map((x) => x.session).sort();
    const want = Object.keys(h.sessions).sort();
    if (JSON.stringify(listed) !== JSON.stringify(want)) throw new Error(`${h.name} lists sessions ${listed.join(',')}, expected ${want.join(',')}`);
    log(`ok  ${h.name} answers on ${h.url} and lists ${listed.join(' ')}`);
  }
  for (const { h, a } of assignments) {
    const done = await waitFor(`delivery of ${a.id} on ${h.name}`, async () => {
      const all = (await api(h, 'GET', '/assignments')).items;
      const x = all.find((y) => y.id === a.id);
      return x !== undefined && x.delivery !== 'pending' ? x : null;
    });
    if (done.delivery !== 'delivered') throw new Error(`assignment to ${a.host}:${a.session} ${done.delivery}: ${done.error}`);
    log(`ok  ${h.name} typed the assignment into ${a.host}:${a.session}`);
  }
}

try {
  const assignments = await setUp();
  if (CHECK) {
    await check(assignments);
    const dir = root;
    await teardown();
    log(`demo check passed; stopped everything and removed ${dir}`);
    process.exit(0);
  }
  printGuide();
  // The daemons keep the event loop alive; wait for Ctrl-C.
} catch (e) {
  process.stderr.write(`demo: ${e.message ?? e}\n`);
  await teardown();
  process.exit(1);
}
