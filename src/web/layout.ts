import { type Html, html } from './html.js';

export interface PageChrome {
  title: string;
  /** The signed-in user's email, shown with a sign-out button; absent on public pages. */
  signedInAs?: string;
  /** Shows the link to the administration pages. */
  isAdmin?: boolean;
  /**
   * The email of a sign-in that still owes its second step: the header offers a way out (sign out), as
   * the second-step pages are otherwise a dead end for someone who picked the wrong account.
   */
  signingInAs?: string;
  /** CSRF token for the sign-out form. */
  csrfToken?: string;
  /** The page has a security-key form: load @simplewebauthn/browser and its glue (public/webauthn.js). */
  webauthn?: boolean;
  siteName: string;
}

/**
 * The page shell: one stylesheet, one deferred script (progressive enhancement only: every form works
 * without it), a skip link and landmarks for keyboard and screen-reader users.
 */
export function layout(chrome: PageChrome, body: Html): Html {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${chrome.title} · ${chrome.siteName}</title>
<link rel="icon" href="/assets/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/assets/style.css">
<script src="/assets/enhance.js" defer></script>
${
  chrome.webauthn
    ? html`<script src="/assets/simplewebauthn-browser.js" defer></script>
<script src="/assets/webauthn.js" defer></script>`
    : ''
}
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="site">
  <a class="brand" href="/">${chrome.siteName}</a>
  ${
    chrome.signedInAs
      ? html`<nav aria-label="Account">
    ${chrome.isAdmin ? html`<a href="/admin">Administration</a>` : ''}
    <a href="/settings/two-factor">Two-factor authentication</a>
    <span class="who">${chrome.signedInAs}</span>
    ${signOutForm(chrome.csrfToken)}
  </nav>`
      : chrome.signingInAs
        ? html`<nav aria-label="Account">
    <span class="who">Signing in as ${chrome.signingInAs}</span>
    ${signOutForm(chrome.csrfToken)}
  </nav>`
        : ''
  }
</header>
<main id="main" tabindex="-1">
${body}
</main>
</body>
</html>
`;
}

function signOutForm(csrfToken: string | undefined): Html {
  return html`<form method="post" action="/sign-out" class="inline">
      <input type="hidden" name="_csrf" value="${csrfToken ?? ''}">
      <button type="submit" class="link">Sign out</button>
    </form>`;
}

/** A visible, announced error message next to the form it is about. */
export function errorBox(message: string | undefined): Html {
  return message ? html`<div class="error" role="alert" id="form-error">${message}</div>` : html``;
}

export function noticeBox(message: string | undefined): Html {
  return message ? html`<div class="notice" role="status">${message}</div>` : html``;
}

export function csrfField(token: string): Html {
  return html`<input type="hidden" name="_csrf" value="${token}">`;
}
