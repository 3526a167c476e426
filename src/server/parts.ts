/**
 * The parts `clare serve` plugs into the daemon, in start order. Each part owns
 * its service, routes and status port; the daemon only wires them.
 */
import type { PartFactory } from './daemon.js';

export const DEFAULT_PARTS: readonly PartFactory[] = [];
