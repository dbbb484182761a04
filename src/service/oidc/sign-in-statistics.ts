import { lastDays, startOfDay } from '../../core/time-zone.js';
import type { ServiceDeps } from '../deps.js';

/** Sign-ins through one registered application, in the operator's time zone. */
export interface ApplicationSignIns {
  clientId: string;
  name: string;
  disabled: boolean;
  today: number;
  last30Days: number;
}

/**
 * Sign-ins per registered application today and over the last 30 days (today included), every
 * application listed (those without sign-ins with zeros), the busiest first, then by name. Read from the per-quarter-hour counters kept
 * beside the `oidc_sign_in` audit events, so the cost does not grow with the number of sign-ins.
 */
export async function signInsPerApplication(deps: ServiceDeps): Promise<ApplicationSignIns[]> {
  const now = deps.clock.now();
  const timeZone = deps.options.timeZone;
  const { starts, end } = lastDays(now, timeZone, 30);
  const from = starts[0] as Date;
  const todayStart = startOfDay(now, timeZone).getTime();
  const [clients, buckets] = await Promise.all([
    deps.store.listOidcClients(),
    deps.store.listOidcSignInCounts({ from, to: end }),
  ]);
  const totals = new Map<string, { today: number; last30Days: number }>();
  for (const bucket of buckets) {
    const total = totals.get(bucket.clientId) ?? { today: 0, last30Days: 0 };
    total.last30Days += bucket.events;
    if (bucket.bucketStart.getTime() >= todayStart) total.today += bucket.events;
    totals.set(bucket.clientId, total);
  }
  return clients
    .map((client) => ({
      clientId: client.id,
      name: client.name,
      disabled: client.disabledAt !== null,
      ...(totals.get(client.id) ?? { today: 0, last30Days: 0 }),
    }))
    .sort(
      (a, b) =>
        b.last30Days - a.last30Days || a.name.localeCompare(b.name) || (a.clientId < b.clientId ? -1 : 1),
    );
}
