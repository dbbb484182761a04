/**
 * autocannon in a Node process of its own (`runLoadGenerator`): the load generator must not share the
 * benchmark script's event loop, and every target of a comparison is driven by the same process with
 * the same options. Prints one JSON line: responses, how long they took, non-2xx and errors.
 *
 *   node --import tsx bench/support/load-generator.ts '{"url":"http://127.0.0.1:3000/hello",...}'
 */
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';

const options = JSON.parse(process.argv[2] ?? '{}') as autocannon.Options;
const started = performance.now();
let lastResponseAt = started;
let responses = 0;
const instance = autocannon(options) as unknown as autocannon.Instance & Promise<autocannon.Result>;
instance.on('response', () => {
  responses++;
  lastResponseAt = performance.now();
});
const result = await instance;
console.log(
  JSON.stringify({
    responses,
    seconds: (lastResponseAt - started) / 1000,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  }),
);
