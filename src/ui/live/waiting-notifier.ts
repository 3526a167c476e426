/**
 * Browser notifications when a session starts waiting for input — opt-in: the
 * permission is asked only from a person's click (`enable`), and the choice is
 * remembered in this browser. `observe` is called with every new fleet state; it
 * compares with the previous one (filters.ts `newlyWaiting`), so a reconnect's
 * fresh snapshot of sessions already waiting notifies nothing new.
 */
import { newlyWaiting } from '../filters.js';
import type { Session } from '../../protocol/models.js';

const KEY = 'clare.notify.waiting';

/** At most this many notifications per fleet change (a whole host coming back must not flood). */
const MAX_PER_CHANGE = 3;

export type NotifyState = 'unsupported' | 'off' | 'on' | 'denied';

export class WaitingNotifier {
  private before: ReadonlyMap<string, Session> | null = null;

  /** Whether notifications can be, or are, shown. */
  get state(): NotifyState {
    if (typeof Notification === 'undefined') return 'unsupported';
    if (Notification.permission === 'denied') return 'denied';
    return Notification.permission === 'granted' && remembered() ? 'on' : 'off';
  }

  /** Asks for the permission (call from a click) and turns notifications on if granted. */
  async enable(): Promise<NotifyState> {
    if (typeof Notification === 'undefined') return 'unsupported';
    const p = Notification.permission === 'granted' ? 'granted' : await Notification.requestPermission();
    if (p === 'granted') remember(true);
    return this.state;
  }

  disable(): void {
    remember(false);
  }

  /** A new state of the fleet: notifies each session that started waiting since the last one. */
  observe(sessions: ReadonlyMap<string, Session>): void {
    if (sessions === this.before) return;
    const fresh = newlyWaiting(this.before, sessions);
    this.before = sessions;
    if (fresh.length === 0 || this.state !== 'on') return;
    for (const s of fresh.slice(0, MAX_PER_CHANGE)) {
      // The tag folds repeats of one session into one notification.
      new Notification(`${s.key} is waiting for input`, { body: s.cwd ?? '', tag: `clare-waiting-${s.key}` });
    }
  }
}

function remembered(): boolean {
  try {
    return localStorage.getItem(KEY) === '1';
  } catch {
    return false;
  }
}

function remember(on: boolean): void {
  try {
    if (on) localStorage.setItem(KEY, '1');
    else localStorage.removeItem(KEY);
  } catch {
    // Not remembered past this page; that is all.
  }
}
