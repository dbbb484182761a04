import { describe } from 'vitest';
import { browserAvailable } from '../helpers/browser.js';
import { NGINX_PATH, proxyAvailable } from './proxy-harness.js';
import { defineProxySuite } from './proxy-suite.js';

// Debian's nginx in front of a tiny app, configured as docs/integrations.md says (auth_request).
describe.skipIf(!browserAvailable() || !proxyAvailable(NGINX_PATH))('nginx auth_request', () => {
  defineProxySuite('nginx');
});
