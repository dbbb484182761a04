// The loader hooks of module-load-recorder.mjs (they run on the loader's own thread).
import { appendFileSync } from 'node:fs';

const log = process.env.SPAREKEY_TEST_MODULE_LOG;

export async function load(url, context, nextLoad) {
  if (log) appendFileSync(log, `${url}\n`);
  return nextLoad(url, context);
}
