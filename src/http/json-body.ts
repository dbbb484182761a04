import type { FastifyInstance } from 'fastify';

/**
 * The deepest JSON nesting a request body may have. Nothing SpareKey accepts nests more than three
 * levels (the settings' `format`); 32 leaves room and stops a 10,000-deep body long before the parser,
 * the validator or a use case recurses over it (issue 18, point 4: that body answered 500).
 */
export const MAX_JSON_DEPTH = 32;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;

/**
 * Whether `text` opens more than `maxDepth` arrays or objects inside one another. One pass, no recursion
 * and no allocation: brackets inside strings (and escaped quotes) do not count. Malformed JSON is left for
 * the parser to refuse.
 */
export function jsonNestsDeeperThan(text: string, maxDepth: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const char = text.charCodeAt(i);
    if (inString) {
      if (char === BACKSLASH) i++;
      else if (char === QUOTE) inString = false;
    } else if (char === QUOTE) {
      inString = true;
    } else if (char === OPEN_BRACE || char === OPEN_BRACKET) {
      depth++;
      if (depth > maxDepth) return true;
    } else if (char === CLOSE_BRACE || char === CLOSE_BRACKET) {
      depth--;
    }
  }
  return false;
}

/** A 400 the error handlers turn into `json_too_deep` (error-status.ts). */
function tooDeep(): Error & { statusCode: number; code: string } {
  return Object.assign(new Error(`JSON nested deeper than ${MAX_JSON_DEPTH} levels`), {
    statusCode: 400,
    code: 'SPAREKEY_JSON_TOO_DEEP',
  });
}

/**
 * application/json bodies: the depth check first, then Fastify's own parser (which refuses `__proto__`
 * and `constructor.prototype` keys). The body limit is the app's (64 KB), checked while the body streams in.
 */
export function registerJsonBodyParser(app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body as string;
    if (jsonNestsDeeperThan(text, MAX_JSON_DEPTH)) return done(tooDeep(), undefined);
    return parse(request, text, done);
  });
}
