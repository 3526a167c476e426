/**
 * Invariant violations the fuzzers report, and the findings that are known and
 * being fixed by others right now (issue 9). A violation that matches a
 * known-open finding is counted and printed but does not fail the run; any other
 * violation fails it. `CLARE_FUZZ_STRICT=1` fails on known-open ones too.
 *
 * When the fix a finding waits for has landed on main, delete its entry here and
 * move its regression test from waiting-for-fixes.waiting.ts into regressions.test.ts.
 * An entry matches narrowly (door, kind and what the evidence says), so a new bug
 * of the same kind elsewhere still fails the run.
 */

/** What went wrong, by invariant. */
export type ViolationKind =
  /** An HTTP answer with status ≥ 500 (other than rclaude itself failing). */
  | 'status-5xx'
  /** A refusal that is not `{error:{code,message}}` with a catalog code, or whose status is not the code's. */
  | 'uncoded-error'
  /** A refused input changed the store (events or projections). */
  | 'rejected-wrote'
  /** Something was stored that a peer refuses, or that does not read back as it was stored. */
  | 'roundtrip'
  /** Text that is typed into sessions or terminals was accepted with control characters in it. */
  | 'control-chars'
  /** An event reusing a held id with other content, or a held HLC under another id, was accepted. */
  | 'identity'
  /** JSON nested deeper than MAX_JSON_DEPTH was accepted at a door, or stored. */
  | 'too-deep-accepted'
  /** A socket answered with something outside its protocol (a frame, a close code). */
  | 'socket-protocol'
  /** A socket peer caused an internal error on the other side. */
  | 'internal-error'
  /** A parser threw something other than its coded error. */
  | 'uncoded-throw'
  /** Accepted input that breaks a rule the door documents (e.g. a config it accepts but cannot use). */
  | 'accepted-invalid';

export interface Violation {
  readonly door: string;
  readonly kind: ViolationKind;
  /** One line a person can read: what was sent, what came back. */
  readonly detail: string;
}

interface KnownOpen {
  readonly id: string;
  /** The issue-9 fix it waits for (the lead knows who owns it). */
  readonly waitsFor: string;
  readonly matches: (v: Violation) => boolean;
}

/**
 * Findings of issue 9 (and ones these fuzzers found) that others are fixing now.
 * Each names the fix and matches only its own symptom.
 */
const KNOWN_OPEN: readonly KnownOpen[] = [
  {
    id: 'identity-conflict-silent',
    waitsFor: 'sync: identity conflicts refused with CLARE_IDENTITY_CONFLICT (issue 9 "Identity")',
    matches: (v) => v.kind === 'identity' && /(dup-other-content|hlc-of-held)/.test(v.detail),
  },
  {
    id: 'below-watermark-http',
    waitsFor: 'sync: per-origin order on every door — an event below its origin\'s watermark refused over HTTP as on the socket (issue 9)',
    matches: (v) => v.kind === 'accepted-invalid' && /accepted below that origin's watermark/.test(v.detail),
  },
  {
    id: 'payload-too-deep',
    waitsFor: 'sync: JSON nesting bounded (64) in event payloads, with a coded 4xx (issue 9 "Bounds")',
    matches: (v) => (v.kind === 'too-deep-accepted' && /stored \S+ \S+ with a payload nested/.test(v.detail))
      || (v.kind === 'roundtrip' && /nested too deep for any peer/.test(v.detail))
      || (v.kind === 'status-5xx' && /CLARE_INTERNAL/.test(v.detail) && /\(body nested (6[5-9]|[7-9]\d|\d{3,}) deep\)/.test(v.detail))
      || (v.kind === 'internal-error' && /frames nested up to (6[5-9]|[7-9]\d|\d{3,}) deep/.test(v.detail)),
  },
  {
    id: 'proto-key-dropped',
    waitsFor: 'sync (src/core/events/envelope.ts or the frame decoder): a payload with a "__proto__" key refused, or stored with it — zod\'s record drops it, so the store holds other content than its origin sent',
    matches: (v) => v.kind === 'identity' && /\((fresh|dup-same), payload has a "__proto__" key\)/.test(v.detail),
  },
];

const hits = new Map<string, Map<string, number>>();

export class FuzzViolation extends Error {
  constructor(readonly violation: Violation) {
    super(`${violation.door}: ${violation.kind}: ${violation.detail}`);
    this.name = 'FuzzViolation';
  }
}

/**
 * Survey mode (CLARE_FUZZ_SURVEY=1): violations are collected instead of thrown, and
 * each door prints the shortest examples per kind at its end — for triage, to see
 * every class of bug in one run rather than stopping at the first.
 */
const SURVEY = process.env['CLARE_FUZZ_SURVEY'] === '1';
const surveyed = new Map<string, Violation[]>();

/** Reports a violation: throws unless it is a known-open finding (and the run is not strict). */
export function violation(door: string, kind: ViolationKind, detail: string): void {
  const v: Violation = { door, kind, detail: detail.length > 2000 ? `${detail.slice(0, 2000)}…` : detail };
  if (SURVEY) {
    const list = surveyed.get(`${door} ${kind}`) ?? [];
    surveyed.set(`${door} ${kind}`, list);
    list.push(v);
    return;
  }
  const known = KNOWN_OPEN.find((k) => k.matches(v));
  if (known === undefined || process.env['CLARE_FUZZ_STRICT'] === '1') throw new FuzzViolation(v);
  const perDoor = hits.get(door) ?? new Map<string, number>();
  hits.set(door, perDoor);
  perDoor.set(known.id, (perDoor.get(known.id) ?? 0) + 1);
}

/** Known-open findings a door hit so far, as `id ×n (waits for …)`, or ''. */
export function knownOpenSummary(door: string): string {
  const perDoor = hits.get(door);
  if (perDoor === undefined) return '';
  return [...perDoor].map(([id, n]) => `${id} ×${n} (waits for ${KNOWN_OPEN.find((k) => k.id === id)?.waitsFor ?? '?'})`).join(', ');
}

/** What a finding says without its input and its particular values: violations with one signature are one finding. */
function signature(v: Violation): string {
  return `${v.kind}: ${v.detail.split('; input:')[0]!}`
    .replace(/"(?:[^"\\]|\\.)*"/g, '"…"')
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<uuid>')
    .replace(/\d+/g, 'N')
    .slice(0, 160);
}

/** In survey mode, the violations a door collected: per signature, the count, the known-open id, and the shortest example. */
export function surveyReport(door: string): string {
  const groups = new Map<string, Violation[]>();
  for (const [key, list] of surveyed) {
    if (!key.startsWith(`${door} `)) continue;
    for (const v of list) {
      const sig = signature(v);
      const g = groups.get(sig) ?? [];
      groups.set(sig, g);
      g.push(v);
    }
  }
  const out: string[] = [];
  for (const [sig, list] of [...groups].sort((a, b) => b[1].length - a[1].length)) {
    const known = KNOWN_OPEN.find((k) => k.matches(list[0]!))?.id ?? 'NEW';
    const shortest = list.map((v) => v.detail).sort((a, b) => a.length - b.length)[0]!;
    out.push(`  [${known}] ×${list.length} ${sig}`, `      e.g. ${shortest.slice(0, 700).replace(/\n/g, '\\n')}`);
  }
  return out.join('\n');
}
