/**
 * Return addresses an attacker might try to bounce a signed-in person to evil.test through SpareKey
 * (STANDARDS req. 61; ASVS 4.0.3 5.1.5; RFC 9700 4.11), for a SpareKey whose protected domain is
 * `domain`. Each must be refused wherever a return address is accepted.
 */
export function openRedirectSpellings(domain: string): { name: string; address: string }[] {
  const app = `app.${domain}`;
  return [
    { name: 'another site', address: 'https://evil.test/' },
    { name: 'scheme-relative', address: '//evil.test/' },
    { name: 'scheme-relative, three slashes', address: '///evil.test/' },
    { name: 'slash backslash', address: '/\\evil.test/' },
    { name: 'two backslashes', address: '\\\\evil.test/' },
    { name: 'scheme without slashes', address: 'https:evil.test' },
    { name: 'scheme with one slash', address: 'https:/evil.test' },
    { name: 'scheme with three slashes', address: 'https:///evil.test' },
    { name: 'scheme with backslashes', address: 'https:\\\\evil.test' },
    { name: 'protected domain as a prefix of the host', address: `https://${domain}.evil.test/` },
    { name: 'protected domain glued to the host', address: `https://evil${domain}/` },
    { name: 'userinfo before the real host', address: `https://${app}@evil.test/` },
    { name: 'userinfo on a protected host', address: `https://user:secret@${app}/` },
    { name: 'backslash before @', address: `https://evil.test\\@${app}/` },
    { name: 'encoded slash before @', address: `https://evil.test%2F@${app}/` },
    { name: 'fragment hiding the host', address: `https://evil.test#@${app}/` },
    { name: 'query hiding the host', address: `https://evil.test?.${domain}` },
    { name: 'ideographic full stop (U+3002)', address: `https://${domain}\u3002evil.test/` },
    { name: 'fullwidth solidus (U+FF0F)', address: `https://evil.test\uFF0F${app}/` },
    { name: 'Cyrillic look-alike host', address: `https://\u0430pp.${domain}.evil.test/` },
    { name: 'percent-encoded host', address: 'https://%65vil.test/' },
    { name: 'NUL in the host', address: `https://${app}%00.evil.test/` },
    { name: 'URL-encoded address', address: 'https%3A%2F%2Fevil.test%2F' },
    { name: 'double URL-encoded address', address: 'https%253A%252F%252Fevil.test%252F' },
    { name: 'encoded scheme-relative', address: '%2F%2Fevil.test' },
    { name: 'tab inside a scheme-relative address', address: '/\t/evil.test' },
    { name: 'leading space', address: ' https://evil.test/' },
    { name: 'javascript: URL', address: 'javascript:alert(document.cookie)' },
    { name: 'javascript: URL with a protected host', address: `javascript://${app}/%0aalert(1)` },
    { name: 'data: URL', address: 'data:text/html,<script>alert(1)</script>' },
    { name: 'plain http to a protected host', address: `http://${app}/` },
    { name: 'ftp to a protected host', address: `ftp://${app}/` },
    { name: 'upper-case scheme and host elsewhere', address: 'HTTPS://EVIL.TEST/' },
    { name: 'IPv4 literal', address: 'https://127.0.0.1/' },
    { name: 'IPv6 literal', address: 'https://[::1]/' },
    { name: 'port trick', address: `https://evil.test:443@${app}/` },
  ];
}
