/**
 * The domain's value schemas (names, text, states, priorities, HLC) and the
 * `host:session` helpers. They are wire rules too, so they live in
 * src/protocol/values.ts; core code imports them from here.
 */
export * from '../protocol/values.js';
