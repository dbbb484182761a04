import type { ServiceDeps } from '../../src/service/deps.js';
import type { TestEnvironment } from '../helpers/service-deps.js';

/**
 * ServiceDeps that always are those of the environment `current()` returns, read at each use: one app
 * built over them serves a fresh database (with its own SMTP capture and clock) after each swap. Building
 * the whole app compiles every route's schemas, about a second on the loaded CI machine, so a suite that
 * wants a database per route builds the app once. What the app itself sets on its deps (its metrics) stays
 * across swaps. Close the previous environment at a swap: a part of the app that kept the old store then
 * fails loudly (a 5xx) instead of changing a database the test no longer reads.
 */
export function currentEnvironmentDeps(current: () => TestEnvironment): ServiceDeps {
  const written: Record<PropertyKey, unknown> = {};
  const deps = () => ({ ...current().deps, ...written }) as Record<PropertyKey, unknown>;
  return new Proxy({} as ServiceDeps, {
    get: (_target, key) => deps()[key],
    has: (_target, key) => key in deps(),
    ownKeys: () => Reflect.ownKeys(deps()),
    getOwnPropertyDescriptor: (_target, key) => {
      const descriptor = Reflect.getOwnPropertyDescriptor(deps(), key);
      return descriptor && { ...descriptor, configurable: true };
    },
    set: (_target, key, value) => {
      written[key] = value;
      return true;
    },
  });
}
