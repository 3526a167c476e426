/** The sync protocol's wire frames: one schema per file, the union in frame.ts. */
export { ackSchema, type AckMsg } from './ack.js';
export { batchSchema, MAX_BATCH_EVENTS, type BatchMsg } from './batch.js';
export { baseSchema, countsSchema, watermarksSchema, type WireBase, type WireCounts, type WireWatermarks } from './common.js';
export { errorSchema, type ErrorMsg } from './error.js';
export { decodeFrame, describeIssues, encodeFrame, parseFrame, parseFrameValue, type Frame, type FrameType, type Parsed } from './frame.js';
export { helloSchema, helloVersionsSchema, type HelloMsg } from './hello.js';
export { linksSchema, type LinksMsg } from './links.js';
export { pingSchema, type PingMsg } from './ping.js';
export { pongSchema, type PongMsg } from './pong.js';
