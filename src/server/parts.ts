/**
 * The parts `clare serve` plugs into the daemon, in start order. Each part owns
 * its service, routes and status port; the daemon only wires them.
 */
import type { PartFactory } from './daemon.js';
import { fleetPart } from './fleet-part.js';
import { livePartFactory } from './live-part.js';
import { observePart } from './observe-part.js';
import { replicationPart } from './replication-part.js';

export const DEFAULT_PARTS: readonly PartFactory[] = [replicationPart, fleetPart, livePartFactory, observePart];
