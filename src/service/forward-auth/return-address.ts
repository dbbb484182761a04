import { type ReturnAddressPolicy, safeReturnAddress } from '../../core/return-address.js';
import { auditEvent } from '../audit/audit.js';
import type { RequestContext, ServiceDeps } from '../deps.js';

/** Where people may be sent back to: SpareKey itself, and the cookie domain with its subdomains. */
export function returnAddressPolicy(deps: ServiceDeps): ReturnAddressPolicy {
  const domain = deps.options.forwardAuth?.cookieDomain;
  return {
    domains: domain ? [domain] : [],
    ownOrigin: deps.options.publicUrl ?? 'http://localhost',
  };
}

/** The address, if SpareKey may send a browser there; undefined for anything else (no open redirect). */
export function checkReturnAddress(deps: ServiceDeps, raw: string): string | undefined {
  return safeReturnAddress(raw, returnAddressPolicy(deps));
}

/**
 * After a sign-in, where to send the person: the return address they came with if it is (still) allowed.
 * A sign-in that returns to a protected app is audited with the app's host, so the log shows which apps
 * people signed in to through the proxy.
 */
export async function landAfterSignIn(
  deps: ServiceDeps,
  input: { userId: string; returnAddress: string; justSignedIn: boolean; context: RequestContext },
): Promise<string | undefined> {
  const address = checkReturnAddress(deps, input.returnAddress);
  if (!address) return undefined;
  if (input.justSignedIn && !address.startsWith('/')) {
    const host = new URL(address).host;
    await deps.store.appendAuditEvent(
      auditEvent(deps.clock.now(), 'forward_auth_sign_in', 'success', input.userId, input.context, { host }),
    );
  }
  return address;
}
