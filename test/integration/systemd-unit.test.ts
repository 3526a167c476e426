import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderUnit } from '../../src/cli/systemd-unit.js';

const template = readFileSync(new URL('../../deploy/clare.service', import.meta.url), 'utf8');
const hasSystemdAnalyze = spawnSync('systemd-analyze', ['--version']).status === 0;

describe('the systemd unit', () => {
  it('the template has no network-online lines, a real Documentation, KillMode=process and readiness through health', () => {
    expect(template).not.toMatch(/network-online/);
    expect(template).toMatch(/^Documentation=file:\/\/%h\/\.local\/lib\/node_modules\/clare\/docs\/operations\.md$/m);
    expect(template).toMatch(/^KillMode=process$/m);
    expect(template).toMatch(/^Type=exec$/m);
    expect(template).toMatch(/^ExecStartPost=.* health --wait \d+$/m);
    for (const h of ['NoNewPrivileges=yes', 'UMask=0077']) expect(template).toMatch(new RegExp(`^${h}$`, 'm'));
    expect(template).not.toMatch(/^PrivateTmp=/m); // tmux sockets live in /tmp (see the comment in the unit)
  });

  it('renders absolute paths, quoting spaces and doubling % (a unit specifier)', () => {
    const text = renderUnit(template, { node: '/opt/node 20/bin/node', cli: '/home/a%b/.local/lib/node_modules/clare/dist/cli/clare.js', docs: '/home/a%b/docs/operations.md', path: ['/opt/rclaude/bin', '/opt/node 20/bin', '%h/.local/bin', '/usr/bin', '/usr/bin'] });
    expect(text).toMatch(/^ExecStart="\/opt\/node 20\/bin\/node" \/home\/a%%b\/\.local\/lib\/node_modules\/clare\/dist\/cli\/clare\.js serve --no-pretty$/m);
    expect(text).toMatch(/^ExecStartPost="\/opt\/node 20\/bin\/node" \/home\/a%%b\/.* health --wait 30$/m);
    expect(text).toMatch(/^Environment=PATH=\/opt\/rclaude\/bin:\/opt\/node 20\/bin:%%h\/\.local\/bin:\/usr\/bin$/m);
    expect(text).toMatch(/^Documentation=file:\/\/\/home\/a%%b\/docs\/operations\.md$/m);
  });

  it.skipIf(!hasSystemdAnalyze)('a rendered unit passes systemd-analyze --user verify without a word', () => {
    const dir = mkdtempSync(join(tmpdir(), 'clare-unit-'));
    try {
      const file = join(dir, 'clare.service');
      const cli = new URL('../../dist/cli/clare.js', import.meta.url).pathname;
      writeFileSync(file, renderUnit(template, { node: process.execPath, cli, docs: null, path: ['/usr/bin', '/bin'] }));
      const r = spawnSync('systemd-analyze', ['--user', 'verify', file], { env: { ...process.env, HOME: dir, XDG_RUNTIME_DIR: dir }, encoding: 'utf8', timeout: 60_000 });
      expect(`${r.stdout}${r.stderr}`.trim()).toBe('');
      expect(r.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  if (!hasSystemdAnalyze) console.warn('SKIPPED: systemd-analyze verify of the unit (systemd-analyze not installed; scripts/install-system-deps.sh installs it)');
});
