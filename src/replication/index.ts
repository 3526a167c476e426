/**
 * Replication: continuous WebSocket gossip between peers, and the HTTP fallback.
 * The daemon wires `ReplicationService` (a Service) and calls the http-sync
 * functions from its routes; nothing here knows fastify.
 */
export { bearerHeaders } from './auth.js';
export { CLOSE, type CloseCode } from './close-codes.js';
export { readAnswer, syncOnce, type FetchLike, type SyncOnceOptions, type SyncOnceResult } from './http-sync-client.js';
export { getEventsAfter, getEventsSince, getSyncEvents, getSyncState, postEvents } from './http-sync-server.js';
export {
  DEFAULT_PAGE, formatAfter, MAX_PAGE, MAX_PAGE_BYTES, MAX_POST_BYTES, MAX_POST_EVENTS, MAX_SMALL_ANSWER_BYTES, parseAfter, SOURCE_HEADER, syncStateSchema,
  type EventsAfterPage, type EventsSincePage, type PostEventsResult, type SyncState,
} from './http-sync-wire.js';
export { normalizePeerUrl, peerApiUrl, SYNC_WS_PATH, syncSocketUrl } from './peer-url.js';
export { CURRENT_PROTOCOL_VERSION, negotiateVersion, PROTOCOL_VERSIONS } from './protocol-version.js';
export { ReplicationService, type Connector, type ReplicationServiceOptions } from './replication-service.js';
export { DEFAULT_CALL_TIMEOUT_MS, RemoteCalls, type CallExecutor, type RemoteCallsOptions } from './remote-calls.js';
export { callOpSchema, MAX_CAPTURE_LINES, type CallOp } from '../protocol/sync/index.js';
export type { Divergence } from './session-reconciler.js';
export type { SessionEnd } from './session-end.js';
export { SyncSession, type Direction, type RemotePeer, type SyncSessionOptions } from './sync-session.js';
export type { CloseInfo, RemoteInfo, Transport } from './transport.js';
export { DEFAULT_TUNING, type PeerCounters, type SyncTuning } from './tuning.js';
export { dialWebSocket, wsTransport, type DialOptions, type WsTransportOptions } from './ws-transport.js';
