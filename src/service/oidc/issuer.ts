/** Where the provider lives under SpareKey's address: its issuer is SPAREKEY_PUBLIC_URL + this. */
export const OIDC_MOUNT_PATH = '/oidc';

/** The issuer applications are configured with, or null while no public address is set. */
export function oidcIssuer(publicUrl: string | undefined): string | null {
  return publicUrl ? `${publicUrl.replace(/\/$/, '')}${OIDC_MOUNT_PATH}` : null;
}
