/**
 * Where security keys may be used: the relying-party id and the origins a key's answer may come from. The
 * one rule for the server's configuration and the library's options (W3C WebAuthn L2 5.1.4.1 step 8 and
 * 13.4.9): every origin is http(s) and on the RP ID (the RP ID's own host or a subdomain of it), else
 * browsers refuse the ceremony anyway.
 */
export type RelyingPartyProblem =
  | { kind: 'not_an_origin'; text: string }
  | { kind: 'not_on_rp_id'; origin: string; rpId: string };

/** The origins in their canonical form (`https://auth.example.com`) and what is wrong with the others. */
export function checkRelyingParty(
  rpId: string,
  originTexts: readonly string[],
): { origins: string[]; problems: RelyingPartyProblem[] } {
  const origins: string[] = [];
  const problems: RelyingPartyProblem[] = [];
  for (const text of originTexts) {
    const origin = originOf(text);
    if (!origin) {
      problems.push({ kind: 'not_an_origin', text });
      continue;
    }
    const host = hostOf(origin);
    if (host !== rpId && !host.endsWith(`.${rpId}`)) {
      problems.push({ kind: 'not_on_rp_id', origin, rpId });
      continue;
    }
    origins.push(origin);
  }
  return { origins, problems };
}

function originOf(text: string): string | undefined {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.origin : undefined;
  } catch {
    return undefined;
  }
}

/** The host name of a URL, or '' when it is not one. */
export const hostOf = (url: string) => {
  try {
    return new URL(url).hostname;
  } catch {
    return '';
  }
};
