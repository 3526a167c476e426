// Branded ids mean "validated at a boundary" only if nothing else brands a string.
// ids.ts holds the parse and trusted* functions; everywhere else in src/ a cast to a
// brand is refused. Lint enforces it (eslint.config.js, BRANDS); this checks that
// the lint list names every brand ids.ts declares, and scans src/ itself, so a
// brand added without the list, or a rule switched off, still fails here.
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error eslint.config.js is plain JavaScript without type declarations.
import { BRANDS } from '../../eslint.config.js';
import { sourceFiles } from '../helpers/source-files.js';

const ROOT = join(import.meta.dirname, '../..');
const IDS = 'src/protocol/ids.ts';

const declared = [...readFileSync(join(ROOT, IDS), 'utf8').matchAll(/export type (\w+) = Brand<string, '(\w+)'>/g)].map((m) => m[1]);
/** `as <type naming a brand>` (also inside a row shape or a record) or `<Brand>value`. */
const CAST = new RegExp(String.raw`\bas\s+(?:readonly\s+)?(?:[\w<>\[\]{}:;, |]*\b)?(${declared.join('|')})\b|<(${declared.join('|')})>\s*[\w(]`);

describe('brand casts', () => {
  it('the lint rule lists every brand ids.ts declares', () => {
    expect(declared.length).toBeGreaterThan(5);
    expect([...(BRANDS as string[])].sort()).toEqual([...declared].sort());
  });

  it('no file in src/ but ids.ts casts to a brand', () => {
    const found: string[] = [];
    for (const file of sourceFiles(join(ROOT, 'src'))) {
      const rel = relative(ROOT, file);
      if (rel === IDS) continue;
      readFileSync(file, 'utf8').split('\n').forEach((line, i) => {
        if (!line.trimStart().startsWith('//') && !line.trimStart().startsWith('*') && CAST.test(line)) found.push(`${rel}:${i + 1}: ${line.trim()}`);
      });
    }
    expect(found).toEqual([]);
  });

  it('the scan would see a cast', () => {
    // The scan above must be able to fail: the same pattern finds the casts this
    // branch removed (src/core/store.ts, src/core/service/tasks.ts before it).
    expect(CAST.test('return { id: r.id as EventId, hlc: r.hlc as Hlc };')).toBe(true);
    expect(CAST.test('const id = resolveTask(ctx.db, ref) as TaskId;')).toBe(true);
    expect(CAST.test('.transform((r) => r as Readonly<Record<string, Hlc>>)')).toBe(true);
    expect(CAST.test("stmt(db, 'SELECT hlc FROM watermarks').get(m) as { hlc: Hlc } | undefined;")).toBe(true);
    expect(CAST.test('const id = trustedTaskId(task.id);')).toBe(false);
  });
});
