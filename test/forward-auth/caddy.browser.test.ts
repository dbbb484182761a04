import { describe } from 'vitest';
import { browserAvailable } from '../helpers/browser.js';
import { CADDY_PATH, proxyAvailable } from './proxy-harness.js';
import { defineProxySuite } from './proxy-suite.js';

// Debian's caddy in front of a tiny app, configured as docs/integrations.md says (forward_auth).
describe.skipIf(!browserAvailable() || !proxyAvailable(CADDY_PATH))('caddy forward_auth', () => {
  defineProxySuite('caddy');
});
