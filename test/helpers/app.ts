/** An in-process app on a :memory: database, for route tests with inject(). */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initialConfigText, parseConfig, type ClareConfig } from '../../src/core/config.js';
import type { StoreContext } from '../../src/core/context.js';
import { openDb } from '../../src/core/db.js';
import { newMachineId } from '../../src/core/ids.js';
import { silentLogger, type Logger } from '../../src/core/log.js';
import { openContext } from '../../src/core/setup.js';
import { buildApp } from '../../src/server/app.js';
import { PeerRegistry } from '../../src/server/peer-registry.js';
import type { FastifyInstance } from 'fastify';

export interface TestApp {
  readonly app: FastifyInstance;
  readonly ctx: StoreContext;
  readonly config: ClareConfig;
  /** The folder holding its clare.toml. */
  readonly dir: string;
}

export async function testApp(opts: { name?: string; token?: string; log?: Logger } = {}): Promise<TestApp> {
  const dir = mkdtempSync(join(tmpdir(), 'clare-app-'));
  const file = join(dir, 'clare.toml');
  let text = initialConfigText(newMachineId(), opts.name ?? 'desk');
  if (opts.token !== undefined) text = text.replace(/^# token = .*$/m, `token = "${opts.token}"`);
  writeFileSync(file, text);
  const config = parseConfig(text, file);
  const ctx = openContext(openDb(':memory:'), config, opts.log ?? silentLogger);
  const app = buildApp({ ctx, config, log: opts.log ?? silentLogger, version: 'test', startedAt: new Date(), peers: new PeerRegistry(file, config.peers) });
  await app.ready();
  return { app, ctx, config, dir };
}

/** Closes what testApp opened: the app, its database, its folder. */
export async function closeTestApp(t: TestApp): Promise<void> {
  await t.app.close();
  t.ctx.db.close();
  rmSync(t.dir, { recursive: true, force: true });
}
