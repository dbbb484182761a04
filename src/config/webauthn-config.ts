import { checkRelyingParty, hostOf } from '../core/webauthn-relying-party.js';

/** Where security keys and passkeys work: the relying party id and the origins ceremonies may come from. */
export interface WebauthnConfig {
  rpId: string;
  origins: string[];
  passkeySignIn: boolean;
}

/**
 * From SPAREKEY_PUBLIC_URL by default: its host name is the RP ID and its origin the one allowed origin.
 * SPAREKEY_WEBAUTHN_RP_ID and SPAREKEY_WEBAUTHN_ORIGINS (comma-separated) override them, e.g. to accept
 * https://auth.example.com and https://login.example.com with the RP ID example.com. Every origin must be
 * the RP ID or one of its subdomains (W3C WebAuthn L2 5.1.4.1 step 8 / 13.4.9), else browsers refuse.
 */
export function parseWebauthnConfig(
  env: NodeJS.ProcessEnv,
  publicUrl: string,
  passkeySignIn: boolean,
  problems: string[],
): WebauthnConfig {
  const rpId = (env.SPAREKEY_WEBAUTHN_RP_ID?.trim() || hostOf(publicUrl)).toLowerCase();
  const listed = env.SPAREKEY_WEBAUTHN_ORIGINS?.split(',')
    .map((origin) => origin.trim())
    .filter((origin) => origin.length > 0);
  const { origins, problems: found } = checkRelyingParty(
    rpId,
    listed && listed.length > 0 ? listed : [publicUrl],
  );
  for (const problem of found)
    problems.push(
      problem.kind === 'not_an_origin'
        ? `SPAREKEY_WEBAUTHN_ORIGINS: "${problem.text}" is not an http(s) origin like https://auth.example.com.`
        : `The security-key origin ${problem.origin} is not on ${rpId} (SPAREKEY_WEBAUTHN_RP_ID): use the RP ID's own host or a subdomain of it.`,
    );
  return { rpId, origins, passkeySignIn };
}
