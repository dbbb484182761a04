// `node --import <this file> ...`: appends the URL of every module the process loads (its own ESM files
// and the entry of each package, CommonJS ones included) to the file named by SPAREKEY_TEST_MODULE_LOG,
// so a test can tell which dependencies a running server has loaded. Test-only; never in production.
import { register } from 'node:module';

register('./module-load-recorder-hooks.mjs', import.meta.url);
