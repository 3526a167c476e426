// src/protocol is what every side of a wire imports, the dashboard's bundle too, so it
// may hold nothing that needs Node or the daemon: its files import zod and each other,
// nothing else. A module of src/core that slipped in would bring node:crypto or the
// database into the browser bundle; this fails on the import line that does it.
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');
const PROTOCOL = join(ROOT, 'src/protocol');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? sourceFiles(p) : e.name.endsWith('.ts') ? [p] : [];
  });
}

/** Every module specifier a file imports or re-exports, with its line number. */
function specifiers(file: string): { line: number; spec: string }[] {
  const out: { line: number; spec: string }[] = [];
  readFileSync(file, 'utf8').split('\n').forEach((text, i) => {
    const m = /^\s*(?:import|export)\b[^'"]*?\bfrom\s+'([^']+)'|^\s*import\s+'([^']+)'/.exec(text);
    const spec = m?.[1] ?? m?.[2];
    if (spec !== undefined) out.push({ line: i + 1, spec });
  });
  return out;
}

describe('src/protocol', () => {
  const files = sourceFiles(PROTOCOL);

  it('holds the wire modules: ids, values, live frames, sync frames', () => {
    const names = files.map((f) => relative(PROTOCOL, f));
    expect(names).toEqual(expect.arrayContaining(['ids.ts', 'values.ts', 'live.ts', 'error-body.ts', 'sync/frame.ts', 'sync/hello.ts']));
  });

  it('imports only zod and its own files', () => {
    const outside: string[] = [];
    for (const file of files) {
      for (const { line, spec } of specifiers(file)) {
        const allowed = spec === 'zod' || spec === 'zod/mini' || (spec.startsWith('.') && resolve(dirname(file), spec).startsWith(`${PROTOCOL}/`));
        if (!allowed) outside.push(`${relative(ROOT, file)}:${line}: ${spec}`);
      }
    }
    expect(outside).toEqual([]);
  });

  it('the check sees an import from core (a file that had one would fail above)', () => {
    const probe = specifiers(join(ROOT, 'src/core/domain.ts')).map((s) => s.spec);
    expect(probe).toContain('../protocol/values.js');
    expect(probe).toContain('zod');
  });
});
