/**
 * `npm run demo` (tools/demo.mjs): three real daemons with stand-in sessions come
 * up, answer and list their sessions, and everything is gone afterwards — after
 * `--check`, and after a Ctrl-C (SIGINT) of the interactive demo.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/daemon.js';
import { waitFor } from '../helpers/wait-for.js';

const DEMO = join(ROOT, 'tools/demo.mjs');

/** Processes (other than this one) whose command line mentions `needle`: leftovers. */
function processesMentioning(needle: string): string[] {
  const out: string[] = [];
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    if (Number(pid) === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmd.includes(needle)) out.push(`${pid}: ${cmd}`);
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

function runDemo(args: readonly string[]): { child: ReturnType<typeof spawn>; out: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [DEMO, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => { text += d; });
  child.stderr.setEncoding('utf8').on('data', (d: string) => { text += d; });
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
  return { child, out: () => text, exited };
}

const tempDirOf = (text: string): string => /\/\S*clare-demo-[A-Za-z0-9]+/.exec(text)?.[0] ?? '';

describe('the demo fleet', () => {
  it('--check brings up three daemons with sessions, verifies them, and leaves nothing behind', async () => {
    const d = runDemo(['--check']);
    const code = await d.exited;
    const out = d.out();
    expect(out, out).toContain('demo check passed');
    expect(code).toBe(0);
    for (const host of ['desk', 'build', 'laptop']) {
      expect(out).toMatch(new RegExp(`ok  ${host} answers on http://127\\.0\\.0\\.1:\\d+ and lists`));
      expect(out).toContain(`ok  ${host} typed the assignment into ${host}:`);
    }
    const dir = tempDirOf(out);
    expect(dir).not.toBe('');
    expect(existsSync(dir)).toBe(false);
    expect(processesMentioning(dir)).toEqual([]);
  }, 90_000);

  it('prints the dashboards and commands, and Ctrl-C stops everything it started', async () => {
    const d = runDemo([]);
    await waitFor('the demo guide', () => d.out().includes('Ctrl-C stops the daemons'), 60_000);
    const out = d.out();
    const dir = tempDirOf(out);
    const urls = [...out.matchAll(/dashboard (http:\/\/127\.0\.0\.1:\d+)\//g)].map((m) => m[1]!);
    expect(urls).toHaveLength(3);
    for (const u of urls) expect((await fetch(`${u}/api/v1/status`)).status).toBe(200);
    expect(out).toContain(`export XDG_CONFIG_HOME=${dir}/desk/config XDG_DATA_HOME=${dir}/desk/data`);
    expect(out).toContain('clare peek desk:api-1');
    expect(out).toContain(`CLARE_URL=${urls[1]!}`);
    expect(processesMentioning(dir).length).toBeGreaterThan(0);

    d.child.kill('SIGINT');
    expect(await d.exited).toBe(0);
    expect(d.out()).toContain('nothing left running');
    expect(existsSync(dir)).toBe(false);
    expect(processesMentioning(dir)).toEqual([]);
    for (const u of urls) await expect(fetch(`${u}/api/v1/status`)).rejects.toThrow();
  }, 90_000);
});
