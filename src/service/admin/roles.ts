import { builtInRoles, ROLE_NAME } from '../../core/policy.js';
import { fail, ok, type Result } from '../../core/result.js';
import { auditEvent } from '../audit/audit.js';
import type { RequestContext, ServiceDeps } from '../deps.js';

/** The built-in roles, then the ones administrators added. */
export async function listRoles(deps: ServiceDeps): Promise<string[]> {
  const custom = await deps.store.listCustomRoles();
  return [...builtInRoles, ...custom.filter((role) => !(builtInRoles as readonly string[]).includes(role))];
}

/** A role as it was added: its name normalised (trimmed, lowercase). */
export interface AddedRole {
  name: string;
}

/** A user's roles after they were replaced. */
export interface AssignedRoles {
  roles: string[];
}

export async function addRole(
  deps: ServiceDeps,
  input: { name: string; context: RequestContext },
): Promise<Result<AddedRole, 'invalid_role_name' | 'role_exists'>> {
  const name = input.name.trim().toLowerCase();
  if (!ROLE_NAME.test(name)) return fail('invalid_role_name');
  if ((builtInRoles as readonly string[]).includes(name)) return fail('role_exists');
  const now = deps.clock.now();
  return deps.store.transaction(async (tx) => {
    const { added } = await tx.addCustomRole(name, now);
    if (!added) return fail('role_exists');
    await tx.appendAuditEvent(auditEvent(now, 'role_added', 'success', null, input.context, { role: name }));
    return ok({ name });
  });
}

/**
 * Replaces a user's roles with known roles only; the audit event has the roles before and after. The
 * only administrator keeps the role (`last_administrator`): someone must still be able to run the site.
 */
export async function assignRoles(
  deps: ServiceDeps,
  input: { userId: string; roles: readonly string[]; context: RequestContext },
): Promise<Result<AssignedRoles, 'user_not_found' | 'unknown_role' | 'last_administrator'>> {
  const known = new Set(await listRoles(deps));
  const roles = [...new Set(input.roles)];
  if (!roles.every((role) => known.has(role))) return fail('unknown_role');
  const now = deps.clock.now();
  return deps.store.transaction(async (tx) => {
    const user = await tx.findUserById(input.userId);
    if (!user) return fail('user_not_found');
    const set = await tx.setUserRoles(user.id, roles);
    if (!set.updated) return fail(set.reason);
    await tx.appendAuditEvent(
      auditEvent(now, 'roles_changed', 'success', user.id, input.context, {
        before: user.roles.join(','),
        after: [...roles].sort().join(','),
      }),
    );
    return ok({ roles: [...roles].sort() });
  });
}
