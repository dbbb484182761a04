import type { ServiceDeps } from '../deps.js';

/** Readiness for a load balancer: the database answers a read (any failure means not ready). */
export async function isReady(deps: ServiceDeps): Promise<boolean> {
  try {
    await deps.store.getSetting('recovery_codes');
    return true;
  } catch {
    return false;
  }
}
