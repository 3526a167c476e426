// Text that Clare types into agent sessions or prints in terminals refuses NUL and
// the other control characters (newline and tab excepted where the field allows
// them), in the shared value schemas and so in every event payload: a peer refuses
// such an event, and a local draft is refused before it enters the log.
import { describe, expect, it } from 'vitest';
import { checkPayload } from '../../src/core/events/catalog.js';
import { cwdSchema, descriptionSchema, pathSchema, projectNameSchema, textSchema, titleSchema } from '../../src/core/domain.js';
import { newMachineId } from '../../src/core/ids.js';
import { commitLocal } from '../../src/core/context.js';
import { openDb } from '../../src/core/db.js';
import { openContext } from '../../src/core/setup.js';
import { parseConfig, initialConfigText } from '../../src/core/config.js';
import { eventCount } from '../../src/core/store.js';
import { parseSessionListing } from '../../src/core/fleet/rclaude.js';
import { silentLogger } from '../../src/core/log.js';

/** Every C0 control but tab and newline, DEL, and every C1 control. */
const CONTROLS = [...Array.from({ length: 0x20 }, (_, i) => i).filter((c) => c !== 0x09 && c !== 0x0a), 0x7f, ...Array.from({ length: 0x20 }, (_, i) => 0x80 + i)]
  .map((c) => String.fromCharCode(c));

describe('control characters in text fields', () => {
  const fields = { title: titleSchema, description: descriptionSchema, text: textSchema, projectName: projectNameSchema, path: pathSchema, cwd: cwdSchema };

  it('are refused in every field, with a message that says so', () => {
    for (const [name, schema] of Object.entries(fields)) {
      for (const c of CONTROLS) {
        const r = schema.safeParse(`/a${c}b`);
        expect(r.success, `${name} with U+${c.charCodeAt(0).toString(16).padStart(4, '0')}`).toBe(false);
        if (!r.success) expect(r.error.issues.map((i) => i.message).join(' ')).toMatch(/control character/);
      }
    }
  });

  it('newline and tab stay allowed where the field allows them', () => {
    expect(descriptionSchema.parse('one\n\ttwo')).toBe('one\n\ttwo');
    expect(textSchema.parse('stop\n\tnow')).toBe('stop\n\tnow');
    expect(titleSchema.parse('a\ttitle')).toBe('a\ttitle');
    expect(titleSchema.safeParse('two\nlines').success).toBe(false);
    expect(cwdSchema.parse('')).toBe('');
    // Printable Unicode is text, not control.
    expect(textSchema.parse('déjà vu — 日本語 🚀')).toBe('déjà vu — 日本語 🚀');
  });
});

describe('event payloads from peers', () => {
  const base = { update_id: '0190f5e2-0000-7000-8000-000000000001', group: 'all', ttl_s: null };
  it('broadcast.sent, task.created, session.seen with a NUL are invalid (the batch is refused)', () => {
    expect(checkPayload('broadcast.sent', 1, { ...base, text: 'stop\u0000now' }).kind).toBe('invalid');
    expect(checkPayload('broadcast.sent', 1, { ...base, text: 'stop now' }).kind).toBe('known');
    const task = { task_id: '0190f5e2-0000-7000-8000-000000000002', project_id: '0190f5e2-0000-7000-8000-000000000003', priority: 2, depends_on: [], description: '' };
    expect(checkPayload('task.created', 2, { ...task, title: 'fix\u001b[2Jit' }).kind).toBe('invalid');
    expect(checkPayload('task.created', 1, { task_id: task.task_id, project_id: task.project_id, priority: 2, title: 'a\u0000' }).kind).toBe('invalid');
    const seen = { host: 'desk', session: 'api-1', state: 'idle', last_activity: '2026-01-01T00:00:00Z' };
    expect(checkPayload('session.seen', 1, { ...seen, cwd: '/srv/a\u0000b' }).kind).toBe('invalid');
    expect(checkPayload('session.changed', 1, { host: 'desk', session: 'api-1', fields: { cwd: '/srv/\u009b' } }).kind).toBe('invalid');
    expect(checkPayload('task.status_changed', 1, { task_id: task.task_id, base: null, status: 'done', note: 'ok\u0007' }).kind).toBe('invalid');
    expect(checkPayload('update.posted', 1, { update_id: base.update_id, text: 'x\u0000', task_id: null, host: null, session: null }).kind).toBe('invalid');
    expect(checkPayload('project.created', 1, { project_id: task.project_id, name: 'p', path: '/a\u0000', description: '', weight: 1 }).kind).toBe('invalid');
  });

  it('a local draft with a NUL is refused before it enters the log', () => {
    const config = parseConfig(initialConfigText(newMachineId(), 'desk'), 'x.toml');
    const ctx = openContext(openDb(':memory:'), config, silentLogger);
    const before = eventCount(ctx.db);
    expect(() => commitLocal(ctx, [{ type: 'group.created', payload: { group: 'all' } }, { type: 'broadcast.sent', payload: { ...base, text: 'a\u0000b' } as never }])).toThrow(/control character/);
    expect(eventCount(ctx.db)).toBe(before);
  });
});

describe('rclaude listing', () => {
  it('refuses a cwd with control characters, naming the line', () => {
    const header = 'host\tsession\tcwd\tstate\tlast_activity';
    expect(() => parseSessionListing(`${header}\ndesk\tapi-1\t/srv/a\u001bb\tidle\t2026-01-01T00:00:00Z\n`, 'desk')).toThrow(/line 2: cwd .*control character/);
  });
});
