import type { MfaOverview } from '../../service/factors/manage-mfa.js';
import {
  type IssuedRecoveryCodeSet,
  recoveryCodeSetLabel,
} from '../../service/recovery-codes/prepare-recovery-code-set.js';
import { type Html, html, trustedHtml } from '../html.js';
import { csrfField, errorBox, noticeBox } from '../layout.js';
import type { FormState } from './account-pages.js';
import { securityKeyForm, securityKeysSection } from './security-key-pages.js';

/**
 * What the browser's history calls a page of codes (enhance.js): a GET address that answers with a normal
 * page, so Back after Done neither resubmits the form nor shows the codes again.
 */
export const CODES_SHOWN_PATH = '/settings/two-factor/recovery-codes/shown';

const kindNames = { totp: 'Authenticator app', email: 'Email codes', webauthn: 'Security key' } as const;
const day = (at: Date) => at.toISOString().slice(0, 10);
const minute = (at: Date) => `${at.toISOString().slice(0, 16).replace('T', ' ')} UTC`;

/** `thisBrowser`: the id of the remembered browser the page is being shown in, if it is one. */
export function overviewPage(state: FormState & { overview: MfaOverview; thisBrowser?: string }): Html {
  const { overview } = state;
  const codes = overview.recoveryCodes;
  const hasTotp = overview.factors.some((factor) => factor.kind === 'totp');
  const hasEmail = overview.factors.some((factor) => factor.kind === 'email');
  return html`<h1>Two-factor authentication</h1>
${noticeBox(state.notice)}${errorBox(state.error)}
<p class="status">Two-factor authentication is <strong id="mfa-status">${overview.mfaEnabled ? 'on' : 'off'}</strong>.</p>
<section aria-labelledby="methods-heading">
<h2 id="methods-heading">Your methods</h2>
${
  overview.factors.length === 0
    ? html`<p>You have not set up a second factor yet. Add one to protect your account even if your password leaks.</p>`
    : html`<ul class="factors">${overview.factors
        // Security keys are listed in their own section, with their names and types.
        .filter((factor) => factor.kind !== 'webauthn')
        .map(
          (factor) =>
            html`<li><span><strong>${kindNames[factor.kind]}</strong> · added ${day(factor.addedAt)}${
              factor.lastUsedAt ? html` · last used ${day(factor.lastUsedAt)}` : ''
            }</span>${
              overview.factors.length > 1
                ? html` <a href="/settings/two-factor/factors/${factor.id}/remove">Remove</a>`
                : ''
            }</li>`,
        )}</ul>`
}
<div class="actions">
${
  hasTotp
    ? ''
    : html`<form method="post" action="/settings/two-factor/totp/start" class="inline">${csrfField(state.csrf)}<button type="submit">Set up an authenticator app</button></form>`
}
${
  hasEmail || !overview.emailCodesAvailable
    ? ''
    : html`<form method="post" action="/settings/two-factor/email/start" class="inline">${csrfField(state.csrf)}<button type="submit" class="secondary">Use email codes</button></form>`
}
</div>
</section>
${securityKeysSection(overview, state.csrf)}
${overview.mfaEnabled ? recoveryCodesSection(codes, overview.recoveryCodeUses) : ''}
${overview.mfaEnabled || overview.devices.length > 0 ? devicesSection(overview.devices, state.csrf, state.thisBrowser) : ''}
${
  overview.mfaEnabled
    ? html`<section aria-labelledby="off-heading">
<h2 id="off-heading">Turn off two-factor authentication</h2>
<p>This removes every method and deletes your recovery codes.</p>
<p><a href="/settings/two-factor/disable" class="danger">Turn off two-factor authentication</a></p>
</section>`
    : ''
}
<section aria-labelledby="password-heading">
<h2 id="password-heading">Password</h2>
<p><a href="/settings/password" id="change-password">Change your password</a></p>
</section>`;
}

function devicesSection(
  devices: MfaOverview['devices'],
  csrf: string,
  thisBrowser: string | undefined,
): Html {
  return html`<section aria-labelledby="devices-heading">
<h2 id="devices-heading">Remembered browsers</h2>
${
  devices.length === 0
    ? html`<p id="devices-none">No browser skips the second step. Tick "Don't ask again on this browser for 30 days" when you sign in to remember one.</p>`
    : html`<p>These browsers skip the second step until the date shown. Forget any you do not recognize or no longer use.</p>
<ul class="factors" id="devices">${devices.map(
        (device) =>
          html`<li><span><strong>${device.label}</strong>${
            device.id === thisBrowser ? html` <span class="badge" id="this-browser">This browser</span>` : ''
          } · remembered ${day(device.addedAt)}${
            device.lastUsedAt ? html` · last used ${day(device.lastUsedAt)}` : ''
          } · until ${day(device.expiresAt)}</span> <form method="post" action="/settings/two-factor/devices/${device.id}/forget" class="inline">${csrfField(csrf)}<button type="submit" class="link">Forget this browser</button></form></li>`,
      )}</ul>
<form method="post" action="/settings/two-factor/devices/forget-all" class="inline">${csrfField(csrf)}<button type="submit" class="secondary">Forget all browsers</button></form>`
}
</section>`;
}

function recoveryCodesSection(
  codes: MfaOverview['recoveryCodes'],
  uses: MfaOverview['recoveryCodeUses'],
): Html {
  if (!codes.enabled && !codes.hasCodes) {
    return html`<section aria-labelledby="codes-heading"><h2 id="codes-heading">Recovery codes</h2>
<p>Recovery codes are turned off on this site.</p></section>`;
  }
  return html`<section aria-labelledby="codes-heading">
<h2 id="codes-heading">Recovery codes</h2>
<p>Recovery codes let you sign in when you cannot use your authenticator app or email. Each works once.</p>
${
  codes.hasCodes
    ? html`<p id="codes-remaining">Recovery codes remaining: <strong>${codes.remaining} of ${codes.total}</strong></p>
${
  codes.remaining === 0
    ? html`<p class="warning" role="alert">You have no recovery codes left. Generate a new set now.</p>`
    : codes.low
      ? html`<p class="warning" role="alert">You are running low on recovery codes. Generate a new set.</p>`
      : ''
}
<p id="codes-set">Current set: <strong>${recoveryCodeSetLabel(codes.generatedAt)}</strong>. A saved sheet that shows another set is out of date.</p>
${
  uses.length === 0
    ? html`<p id="codes-used">None of these codes has been used.</p>`
    : html`<p>Used so far (by their place on your sheet):</p>
<ul id="codes-used">${uses.map((use) => html`<li>Code ${use.position} · used ${minute(use.usedAt)}</li>`)}</ul>`
}
<p class="hint">Generating a new set makes every old code stop working at once.</p>`
    : html`<p>You have no recovery codes.</p>`
}
${
  codes.enabled
    ? html`<p><a class="button" href="/settings/two-factor/recovery-codes/regenerate">${codes.hasCodes ? 'Regenerate recovery codes' : 'Generate recovery codes'}</a></p>`
    : html`<p class="hint">Recovery codes are turned off on this site, so no new ones can be made.</p>`
}
</section>`;
}

export function totpEnrollPage(
  state: FormState & { factorId: string; secretBase32: string; qrSvg: string; issuer: string },
): Html {
  const grouped = state.secretBase32.match(/.{1,4}/g)?.join(' ') ?? state.secretBase32;
  return html`<h1>Set up an authenticator app</h1>
${errorBox(state.error)}
<ol class="steps">
<li><p>Scan this QR code with your authenticator app (Google Authenticator, Microsoft Authenticator, 1Password, Aegis…).</p>
<figure class="qr" aria-label="QR code for your authenticator app">${trustedHtml(state.qrSvg)}</figure>
<details><summary>Can't scan it?</summary>
<p>Enter this setup key in your app, as a time-based key for ${state.issuer}:</p>
<p><code class="secret" id="totp-secret" data-secret="${state.secretBase32}">${grouped}</code></p>
</details></li>
<li><form method="post" action="/settings/two-factor/totp/confirm" class="stack">
  ${csrfField(state.csrf)}
  <input type="hidden" name="factorId" value="${state.factorId}">
  <label for="totp-code">Enter the 6-digit code your app shows</label>
  <input id="totp-code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]*" maxlength="12" required>
  <button type="submit">Verify and turn on</button>
</form></li>
</ol>
<p><a href="/settings/two-factor">Cancel</a></p>`;
}

export function emailEnrollPage(state: FormState & { factorId: string; email: string }): Html {
  return html`<h1>Use email codes</h1>
${noticeBox(state.notice)}${errorBox(state.error)}
<p>We sent a 6-digit code to <strong>${state.email}</strong>. Enter it to confirm you receive our emails. It expires in 10 minutes.</p>
<form method="post" action="/settings/two-factor/email/confirm" class="stack">
  ${csrfField(state.csrf)}
  <input type="hidden" name="factorId" value="${state.factorId}">
  <label for="email-code">Email code</label>
  <input id="email-code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]*" maxlength="12" required autofocus>
  <button type="submit">Verify and turn on</button>
</form>
<form method="post" action="/settings/two-factor/email/resend" class="inline">
  ${csrfField(state.csrf)}
  <input type="hidden" name="factorId" value="${state.factorId}">
  <button type="submit" class="link">Send a new code</button>
</form>
<p><a href="/settings/two-factor">Cancel</a></p>`;
}

/**
 * The only time codes are ever visible. The page is the response to the POST that made them, sent
 * no-store, so reloading or going back cannot show them again. Download works without JavaScript (a
 * data: link); Copy and Print are added by enhance.js.
 */
export function recoveryCodesShownPage(
  state: FormState & {
    set: IssuedRecoveryCodeSet;
    heading: string;
    intro: string;
    siteName: string;
    account: string;
    /** Where "Done" leads when there is no session to acknowledge in (after a password reset). */
    doneHref?: string;
  },
): Html {
  const setLabel = recoveryCodeSetLabel(state.set.generatedAt);
  const one = state.set.codes.length === 1;
  const text = [
    `${state.siteName} recovery ${one ? 'code' : 'codes'} for ${state.account}`,
    setLabel,
    one
      ? 'The code works once. Keep it somewhere safe, like a password manager.'
      : 'Each code works once. Keep them somewhere safe, like a password manager.',
    'Settings > Two-factor authentication shows the current set: if it is another one, this sheet is out of date.',
    '',
    ...state.set.codes.map((code, index) => `${String(index + 1).padStart(2)}. ${code}`),
    '',
  ].join('\n');
  const saved = one ? 'I have saved this code' : 'I have saved these codes';
  return html`<h1>${state.heading}</h1>
${noticeBox(state.notice)}${errorBox(state.error)}
<p>${state.intro}</p>
<p class="warning">${
    one
      ? html`<strong>Save this code now.</strong> This is the only time it is shown. It works once.`
      : html`<strong>Save these codes now.</strong> This is the only time they are shown. Each code works once.`
  }</p>
<dl class="sheet" id="codes-sheet">
  <dt>Site</dt><dd>${state.siteName}</dd>
  <dt>Account</dt><dd>${state.account}</dd>
  <dt>Set</dt><dd id="codes-set-label">${setLabel}</dd>
</dl>
<ol class="codes" id="recovery-codes" data-history-url="${CODES_SHOWN_PATH}">${state.set.codes.map((code) => html`<li><code>${code}</code></li>`)}</ol>
<div class="actions">
  <button type="button" data-action="copy" data-copy="${text}" hidden>Copy</button>
  <a class="button secondary" id="download-codes" download="${state.siteName.toLowerCase().replace(/[^a-z0-9]+/g, '-')}-recovery-codes.txt" href="data:text/plain;charset=utf-8,${encodeURIComponent(text)}">Download (.txt)</a>
  <button type="button" data-action="print" class="secondary" hidden>Print</button>
</div>
${
  state.doneHref
    ? html`<p><a class="button" href="${state.doneHref}">${saved}: continue</a></p>`
    : html`<form method="post" action="/settings/two-factor/recovery-codes/acknowledge" class="stack ack">
  ${csrfField(state.csrf)}
  <div class="check"><input type="checkbox" id="saved" name="saved" value="yes" required><label for="saved">${saved}</label></div>
  <button type="submit">Done</button>
</form>`
}`;
}

export function stepUpPage(
  state: FormState & {
    heading: string;
    explanation: string;
    action: string;
    submit: string;
    hasTotp: boolean;
    hasSecurityKey?: boolean;
    danger?: boolean;
  },
): Html {
  return html`<h1>${state.heading}</h1>
${errorBox(state.error)}
<p>${state.explanation}</p>
<form method="post" action="${state.action}" class="stack">
  ${csrfField(state.csrf)}
  <p>To continue, confirm it is you.</p>
  <label for="password">Your password</label>
  <input id="password" name="password" type="password" autocomplete="current-password">
  ${
    state.hasTotp
      ? html`<p class="or">or</p>
  <label for="totp-code">A code from your authenticator app</label>
  <input id="totp-code" name="totpCode" type="text" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]*" maxlength="12">`
      : ''
  }
  <button type="submit" class="${state.danger ? 'danger' : ''}">${state.submit}</button>
</form>
${
  state.hasSecurityKey
    ? html`<p class="or">or</p>
${securityKeyForm({
  id: 'step-up-security-key',
  csrf: state.csrf,
  ceremony: 'authenticate',
  action: state.action,
  options: '/settings/two-factor/step-up/security-key/options',
  submit: `${state.submit} with your security key`,
  responseField: 'securityKeyResponse',
  buttonClass: state.danger ? 'danger' : 'secondary',
})}`
    : ''
}
<p><a href="/settings/two-factor">Cancel</a></p>`;
}
