/** The sync protocol's wire frames: one schema per file, the union in frame.ts. */
export { ackSchema, type AckMsg } from './ack.js';
export { batchSchema, MAX_BATCH_EVENTS, type BatchMsg } from './batch.js';
export { baseSchema, countsSchema, digestsSchema, hlcRangeSchema, MAX_RANGES, watermarksSchema, type WireBase, type WireCounts, type WireDigests, type WireRange, type WireWatermarks } from './common.js';
export { callResultSchema, MAX_SCREEN_CHARS, type CallResultMsg } from './call-result.js';
export { callIdSchema, callOpSchema, callSchema, MAX_CALL_HOPS, MAX_CALL_TIMEOUT_MS, MAX_CAPTURE_LINES, MIN_CALL_TIMEOUT_MS, type CallMsg, type CallOp } from './call.js';
export { errorSchema, type ErrorMsg } from './error.js';
export { decodeFrame, describeIssues, encodeFrame, parseFrame, parseFrameValue, frameVersion, V2_FRAMES, V3_FRAMES, type Frame, type FrameType, type Parsed } from './frame.js';
export { helloSchema, helloVersionsSchema, type HelloMsg } from './hello.js';
export { linksSchema, type LinksMsg } from './links.js';
export { pingSchema, type PingMsg } from './ping.js';
export { pongSchema, type PongMsg } from './pong.js';
export { rangeReqSchema, type RangeReqMsg } from './range-req.js';
export { rangeSchema, type RangeMsg } from './range.js';
export { sumReqSchema, type SumReqMsg } from './sum-req.js';
export { sumSchema, type SumMsg } from './sum.js';
