/**
 * Return addresses ("send me back here after sign-in"), allowed only on the domains SpareKey protects.
 * An open redirect turns a trusted sign-in page into a phishing relay (ASVS 4.0.3 5.1.5; RFC 9700 4.11),
 * so this accepts a narrow, canonical spelling and refuses everything else rather than trying to
 * understand every trick: the host part must be plain ASCII letters, digits, dots and hyphens, so
 * userinfo (`@`), percent-encoding, backslashes, Unicode look-alikes and IP literals never reach the
 * URL parser's lenient rewriting (WHATWG turns `\` into `/` and `https:evil.com` into `https://evil.com`).
 */

export interface ReturnAddressPolicy {
  /** Registrable domains whose hosts (the domain itself and every subdomain) may be returned to. */
  domains: readonly string[];
  /** SpareKey's own origin (https://auth.example.com): always allowed, and where local paths resolve. */
  ownOrigin: string;
}

export const MAX_RETURN_ADDRESS_LENGTH = 2048;

/** scheme://host[:port] then an optional path-query-fragment: nothing else may sit in the authority. */
const ABSOLUTE =
  /^(https?):\/\/([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*)(?::(\d{1,5}))?([/?#].*)?$/i;
/** A path on SpareKey itself: one slash, then not a second slash (that would be scheme-relative). */
const LOCAL_PATH = /^\/(?![/])/;
/** Printable ASCII without space and backslash: what a canonical URL's path and query consist of. */
const PLAIN_ASCII = /^[\x21-\x5b\x5d-\x7e]*$/;

/**
 * The address to send the browser to, or undefined when it is not one SpareKey may send people to.
 * Absolute addresses come back as the URL parser serializes them (the form the browser will follow).
 */
export function safeReturnAddress(raw: string, policy: ReturnAddressPolicy): string | undefined {
  if (raw.length === 0 || raw.length > MAX_RETURN_ADDRESS_LENGTH || !PLAIN_ASCII.test(raw)) return undefined;
  if (LOCAL_PATH.test(raw))
    return new URL(raw, policy.ownOrigin).origin === policy.ownOrigin ? raw : undefined;
  const match = ABSOLUTE.exec(raw);
  if (!match) return undefined;
  const [, scheme = '', host = '', port] = match;
  const hostname = host.toLowerCase();
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) return undefined;
  if (!isAllowedScheme(scheme.toLowerCase(), hostname)) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return undefined;
  }
  // Belt and braces: the parser must read the same host we checked, with nothing before it.
  if (url.hostname !== hostname || url.username !== '' || url.password !== '') return undefined;
  if (url.origin === policy.ownOrigin || isUnderProtectedDomain(hostname, policy.domains)) return url.href;
  return undefined;
}

/** https, or plain http for localhost names only (browsers treat those as secure contexts). */
function isAllowedScheme(scheme: string, hostname: string): boolean {
  return scheme === 'https' || (scheme === 'http' && isLocalhostName(hostname));
}

export function isLocalhostName(hostname: string): boolean {
  return hostname === 'localhost' || hostname.endsWith('.localhost');
}

/** `example.com` covers example.com and a.b.example.com, never evil-example.com or example.com.evil. */
export function isUnderProtectedDomain(hostname: string, domains: readonly string[]): boolean {
  const host = hostname.toLowerCase();
  return domains.some((domain) => {
    const wanted = domain.toLowerCase();
    return host === wanted || host.endsWith(`.${wanted}`);
  });
}
