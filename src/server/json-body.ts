/**
 * Request bodies: JSON only, nesting bounded. Hostile JSON nested thousands deep
 * overflows the stack of recursive code after parsing (zod, JSON.stringify), so the
 * depth is measured on the text first, without recursion (src/core/json-bounds.ts),
 * and a body deeper than MAX_JSON_DEPTH is refused with CLARE_TOO_DEEP (400) before
 * it is parsed. Within the bound, fastify's own parser does the work (it refuses
 * `__proto__` and `constructor.prototype` keys). No route takes any other body type:
 * `text/plain` — what a web page can send without asking — is not parsed at all (415).
 */
import type { FastifyInstance } from 'fastify';
import { jsonTextDepth, MAX_JSON_DEPTH, tooDeep } from '../core/json-bounds.js';

export function registerJsonBodyParser(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (jsonTextDepth(text, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) {
      done(tooDeep('the request body'), undefined);
      return;
    }
    void parseJson(req, text, done);
  });
}
