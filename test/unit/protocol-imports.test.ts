// src/protocol is what every side of a wire imports, the dashboard's bundle too, so it
// may hold nothing that needs Node or the daemon: its files import zod and each other,
// nothing else. A module of src/core that slipped in would bring node:crypto or the
// database into the browser bundle; this fails on the import line that does it.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sourceFiles } from '../helpers/source-files.js';

const ROOT = join(import.meta.dirname, '../..');
const PROTOCOL = join(ROOT, 'src/protocol');

/** Every module specifier a file imports or re-exports (one statement may span lines), with its line number. */
function specifiers(file: string): { line: number; spec: string }[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/^\s*(?:(?:import|export)\b[^;'"]*?\bfrom\s+|import\s+)'([^']+)'/gm)].map((m) => ({
    line: text.slice(0, m.index).split('\n').length + (m[0].match(/^\n*/)?.[0].length ?? 0),
    spec: m[1] ?? '',
  }));
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

  it('the check reads every form of import and re-export', () => {
    const dir = mkdtempSync(join(tmpdir(), 'clare-imports-'));
    try {
      const file = join(dir, 'probe.ts');
      writeFileSync(file, [
        "import { z } from 'zod';",
        "import type { Hlc } from '../core/hlc.js';",
        "export * from '../core/domain.js';",
        "export { a, b } from './x.js';",
        "import 'node:crypto';",
        "  import {",
        "    c,",
        "  } from 'node:fs';",
      ].join('\n'));
      expect(specifiers(file).map((s) => s.spec)).toEqual(['zod', '../core/hlc.js', '../core/domain.js', './x.js', 'node:crypto', 'node:fs']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
