/**
 * `clare export` and `clare import`: the event log as JSON lines, moved between
 * real daemons; import goes through the validated sync ingest, so bad lines write nothing.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { envelopeSchema } from '../../src/core/events/envelope.js';
import { machinePool, type TestMachine } from '../helpers/daemon.js';

const TOKEN = 'export-test-token-0123456789abcdef';
const pool = machinePool();
afterEach(() => pool.release());

const count = async (m: TestMachine): Promise<number> => (await m.api<{ event_count: number }>('GET', '/sync/state')).body.event_count;

describe('export and import', () => {
  it('exports every event in HLC order, to a file or stdout, and imports them elsewhere once', async () => {
    const a = await pool.machine({ name: 'a' });
    const b = await pool.machine({ name: 'b', token: TOKEN });
    await a.start();
    await b.start();
    for (let i = 0; i < 30; i++) expect((await a.api('POST', '/projects', { name: `p${i}` })).status).toBe(201);
    const p = (await a.api<{ id: string }>('POST', '/projects', { name: 'with-task' })).body;
    expect((await a.api('POST', '/tasks', { project: p.id, title: 'Ünïcode “quotes” \\ and \ttab' })).status).toBe(201);

    const file = join(a.dir, 'events.jsonl');
    const r = a.cli(['export', file, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const text = readFileSync(file, 'utf8');
    expect(a.cli(['export', '-']).stdout).toBe(text);
    const lines = text.trimEnd().split('\n');
    expect(lines).toHaveLength(await count(a));
    const events = lines.map((l) => envelopeSchema.parse(JSON.parse(l)));
    expect(events.map((e) => e.hlc)).toEqual(events.map((e) => e.hlc).sort());

    const before = await count(b);
    const imp = b.cli(['import', file, '--json']);
    expect(imp.code, imp.stderr).toBe(0);
    expect(JSON.parse(imp.stdout)).toMatchObject({ accepted: lines.length, known: 0 });
    expect(await count(b)).toBe(before + lines.length);
    const titles = (await b.api<{ items: { title: string }[] }>('GET', '/tasks?limit=500')).body.items.map((t) => t.title);
    expect(titles).toContain('Ünïcode “quotes” \\ and \ttab');
    // Byte for byte: b's export holds a's lines unchanged.
    const fromB = new Set(b.cli(['export', '-']).stdout.trimEnd().split('\n'));
    for (const l of lines) expect(fromB.has(l)).toBe(true);

    const again = b.cli(['import', '-', '--json'], {});
    expect(again.code).toBe(0); // empty stdin: nothing to do
    const twice = b.cli(['import', file, '--json']);
    expect(JSON.parse(twice.stdout)).toMatchObject({ accepted: 0, known: lines.length });
  });

  it('refuses bad lines with their line numbers and writes nothing of their batch', async () => {
    const a = await pool.machine({ name: 'a' });
    await a.start();
    const before = await count(a);
    const good = a.cli(['export', '-']).stdout.trimEnd().split('\n')[0]!;
    const other = JSON.parse(good);
    const fresh = (n: number) => JSON.stringify({ ...other, id: `0190${String(n).padStart(4, '0')}-0000-7000-8000-000000000000`, hlc: `00${String(1700000000000 + n)}:00000:${other.origin}`, origin: other.origin, type: 'project.created', v: 1, payload: { name: `imp-${n}` } });

    const notJson = join(a.dir, 'bad1.jsonl');
    writeFileSync(notJson, `${fresh(1)}\n{not json\n`);
    const r1 = a.cli(['import', notJson]);
    expect(r1.code).toBe(2);
    expect(r1.stderr).toMatch(/bad1\.jsonl:2/);

    const deep = join(a.dir, 'deep.jsonl');
    writeFileSync(deep, `${'['.repeat(100)}${']'.repeat(100)}\n`);
    const r2 = a.cli(['import', deep]);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toMatch(/nested more than 64/);

    const badEvent = join(a.dir, 'bad2.jsonl');
    writeFileSync(badEvent, `${fresh(2)}\n${JSON.stringify({ ...JSON.parse(fresh(3)), hlc: 'not-an-hlc' })}\n`);
    const r3 = a.cli(['import', badEvent]);
    expect(r3.code).toBe(7);
    expect(r3.stderr).toMatch(/bad2\.jsonl lines 1–2 refused \(nothing of them written/);
    expect(await count(a)).toBe(before);
    expect(a.cli(['import', join(a.dir, 'missing.jsonl')]).stderr).toMatch(/no file/);
  });
});
