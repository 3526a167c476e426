/**
 * The Transport contract (src/replication/transport.ts) as one suite, run
 * against every implementation: the in-memory pair and the `ws` adapter.
 */
import { describe, expect, it } from 'vitest';
import type { CloseInfo, Transport } from '../../src/replication/transport.js';
import { waitFor } from './wait-for.js';

export interface ConnectedPair {
  readonly a: Transport;
  readonly b: Transport;
  /** Releases whatever the pair needed (servers, sockets). */
  cleanup(): Promise<void>;
}

export type PairFactory = () => Promise<ConnectedPair>;

function collect(t: Transport): string[] {
  const got: string[] = [];
  t.onMessage((f) => got.push(f));
  return got;
}

function closes(t: Transport): { infos: CloseInfo[]; closed: Promise<CloseInfo> } {
  const infos: CloseInfo[] = [];
  const closed = new Promise<CloseInfo>((resolve) => t.onClose((i) => {
    infos.push(i);
    resolve(i);
  }));
  return { infos, closed };
}

/** Registers the conformance suite for one transport implementation. */
export function transportConformance(name: string, makePair: PairFactory): void {
  describe(`Transport conformance: ${name}`, () => {
    async function withPair(fn: (p: ConnectedPair) => Promise<void>): Promise<void> {
      const p = await makePair();
      try {
        await fn(p);
      } finally {
        await p.cleanup();
      }
    }

    it('both ends become ready and open', () => withPair(async ({ a, b }) => {
      await Promise.all([a.whenReady, b.whenReady]);
      expect(a.isOpen).toBe(true);
      expect(b.isOpen).toBe(true);
    }));

    it('delivers frames in order, each exactly once, both ways', () => withPair(async ({ a, b }) => {
      await Promise.all([a.whenReady, b.whenReady]);
      const atB = collect(b);
      const atA = collect(a);
      const n = 500;
      for (let i = 0; i < n; i++) {
        a.send(`a${i}`);
        b.send(`b${i}`);
      }
      await waitFor('all frames', () => atB.length >= n && atA.length >= n);
      expect(atB).toEqual(Array.from({ length: n }, (_, i) => `a${i}`));
      expect(atA).toEqual(Array.from({ length: n }, (_, i) => `b${i}`));
    }));

    it('carries large and non-ASCII frames intact', () => withPair(async ({ a, b }) => {
      await Promise.all([a.whenReady, b.whenReady]);
      const atB = collect(b);
      const big = 'x'.repeat(3 * 1024 * 1024);
      const uni = JSON.stringify({ s: 'naïve — 日本語 — 🚀', nul: '\u0000' });
      a.send(big);
      a.send(uni);
      await waitFor('two frames', () => atB.length === 2);
      expect(atB[0]!.length).toBe(big.length);
      expect(atB[1]).toBe(uni);
    }));

    it('close(code, reason) reaches the other end; each side hears its close exactly once', () => withPair(async ({ a, b }) => {
      await Promise.all([a.whenReady, b.whenReady]);
      const atB = collect(b);
      const ca = closes(a);
      const cb = closes(b);
      a.send('last words');
      a.close(4009, 'redundant link');
      a.close(4009, 'again'); // idempotent
      const [ia, ib] = await Promise.all([ca.closed, cb.closed]);
      expect(ib).toMatchObject({ code: 4009, reason: 'redundant link', local: false });
      expect(ia).toMatchObject({ code: 4009, local: true });
      expect(atB).toEqual(['last words']);
      expect(a.isOpen).toBe(false);
      expect(b.isOpen).toBe(false);
      // Late subscribers still hear the end; nothing fires twice.
      const late = await new Promise<CloseInfo>((resolve) => b.onClose(resolve));
      expect(late.code).toBe(4009);
      expect(ca.infos).toHaveLength(1);
      expect(cb.infos).toHaveLength(1);
    }));

    it('send after close is a silent no-op', () => withPair(async ({ a, b }) => {
      await Promise.all([a.whenReady, b.whenReady]);
      const cb = closes(b);
      b.close(1000, 'bye');
      await cb.closed;
      expect(() => b.send('ignored')).not.toThrow();
      expect(() => a.send('ignored')).not.toThrow();
    }));

    it('a listener that throws does not escape: the transport closes with 1011', () => withPair(async ({ a, b }) => {
      await Promise.all([a.whenReady, b.whenReady]);
      b.onMessage(() => {
        throw new Error('listener bug');
      });
      const ca = closes(a);
      a.send('boom');
      const info = await ca.closed;
      expect(info.code).toBe(1011);
    }));

    it('removed listeners hear nothing more', () => withPair(async ({ a, b }) => {
      await Promise.all([a.whenReady, b.whenReady]);
      const first: string[] = [];
      const off = b.onMessage((f) => first.push(f));
      const all = collect(b);
      a.send('1');
      await waitFor('first frame', () => all.length === 1);
      off();
      a.send('2');
      await waitFor('second frame', () => all.length === 2);
      expect(first).toEqual(['1']);
    }));
  });
}
