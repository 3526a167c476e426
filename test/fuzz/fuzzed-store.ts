/**
 * One fuzz daemon per test file, with the peer mirror that takes every event it
 * stores: started before the file's tests, stopped after. A door calls `flush`
 * after each case (new events go to the mirror, checked on the way) and
 * `checkConverged` at the end (the mirror's projections equal the daemon's).
 */
import { afterAll, beforeAll } from 'vitest';
import { startFuzzDaemon, type FuzzDaemon } from './fuzz-daemon.js';
import { PeerMirror } from './invariants.js';
import { violation } from './known-open.js';

export interface FuzzedStore {
  readonly fd: FuzzDaemon;
  readonly mirror: PeerMirror;
  /** Sends the events stored since the last flush to the mirror; `what` names the input for reports. */
  flush(what: string): void;
  /** After a run: a peer that took every stored event has the daemon's projections. */
  checkConverged(): void;
}

/**
 * Registers beforeAll/afterAll for a fuzz daemon; `seed` runs once it is up (e.g.
 * to create what the cases aim at). Returns a getter, valid inside tests.
 */
export function useFuzzedStore(door: string, seed?: (fd: FuzzDaemon) => Promise<void>): () => FuzzedStore {
  let store: FuzzedStore | null = null;
  beforeAll(async () => {
    const fd = await startFuzzDaemon();
    const mirror = new PeerMirror();
    let lastSeq = 0;
    const flush = (what: string): void => {
      const fresh = fd.eventsAfter(lastSeq);
      if (fresh.length === 0) return;
      mirror.take(door, what, fresh);
      lastSeq = fresh.at(-1)!.seq;
    };
    if (seed !== undefined) await seed(fd);
    flush('start');
    store = {
      fd,
      mirror,
      flush,
      checkConverged: () => {
        flush('tail');
        if (mirror.digest() !== fd.snapshot().digest) {
          violation(door, 'roundtrip', `after the run, a peer that took every accepted event has other projections than the daemon: ${mirror.diff(fd.read)}`);
        }
      },
    };
  }, 60_000);
  afterAll(async () => {
    store?.mirror.close();
    await store?.fd.stop();
  });
  return () => {
    if (store === null) throw new Error('the fuzz daemon is not up (use it inside a test)');
    return store;
  };
}
