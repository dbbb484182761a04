import { type Html, html } from '../html.js';
import { csrfField, errorBox, noticeBox } from '../layout.js';
import type { FormState } from './account-pages.js';
import { securityKeyForm } from './security-key-pages.js';

export interface SecondStepState extends FormState {
  choices: { securityKey?: boolean; totp: boolean; email: boolean; recoveryCode: boolean };
  /** An email code was sent in this sign-in attempt: show its form. */
  emailSent?: boolean;
}

const codeInput = (id: string, label: string) => html`<label for="${id}">${label}</label>
  <input id="${id}" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]*" maxlength="12" required autofocus>`;

/**
 * Auth0's "remember this browser", opt-in: never ticked by default, so a recovery-code sign-in (someone who
 * lost their phone, maybe on a borrowed computer) remembers nothing unless the person asks.
 */
function rememberBox(id: string): Html {
  return html`<div class="check"><input type="checkbox" id="${id}" name="remember" value="yes"><label for="${id}">Don't ask again on this browser for 30 days</label></div>`;
}

export function secondStepPage(state: SecondStepState): Html {
  const { choices } = state;
  return html`<h1>Two-factor authentication</h1>
${noticeBox(state.notice)}${errorBox(state.error)}
${
  // The phishing-resistant factor comes first when the account has one.
  choices.securityKey
    ? securityKeyForm({
        id: 'use-security-key',
        csrf: state.csrf,
        ceremony: 'authenticate',
        action: '/sign-in/two-factor/security-key',
        options: '/sign-in/two-factor/security-key/options',
        submit: 'Use your security key',
        lead: 'Use your security key or passkey: insert or touch it, or unlock your device when asked.',
        fields: rememberBox('remember-key'),
      })
    : ''
}
${
  choices.totp
    ? html`<form method="post" action="/sign-in/two-factor/totp" class="stack">
  ${csrfField(state.csrf)}
  <p>Open your authenticator app and enter the 6-digit code for this site.</p>
  ${codeInput('totp-code', 'Authentication code')}
  ${rememberBox('remember-totp')}
  <button type="submit">Verify</button>
</form>`
    : ''
}
${
  choices.email
    ? state.emailSent || !choices.totp
      ? html`${
          state.emailSent
            ? html`<form method="post" action="/sign-in/two-factor/email" class="stack">
  ${csrfField(state.csrf)}
  <p>We sent a code to your email address. It expires in 10 minutes.</p>
  ${codeInput('email-code', 'Email code')}
  ${rememberBox('remember-email')}
  <button type="submit">Verify</button>
</form>`
            : ''
        }
<form method="post" action="/sign-in/two-factor/email/send" class="inline">
  ${csrfField(state.csrf)}
  <button type="submit" class="${state.emailSent ? 'link' : ''}">${state.emailSent ? 'Send a new code' : 'Email me a code'}</button>
</form>`
      : html`<form method="post" action="/sign-in/two-factor/email/send" class="inline">
  ${csrfField(state.csrf)}
  <button type="submit" class="link">Email me a code instead</button>
</form>`
    : ''
}
<ul class="alternatives">
  ${choices.recoveryCode ? html`<li><a href="/sign-in/recovery" id="use-recovery-code">Use a recovery code</a></li>` : ''}
  <li><a href="/lost-access">Lost access to everything?</a></li>
</ul>
${cancelSignIn(state.csrf)}`;
}

/** The way out of the second step: ends the half-finished sign-in and goes back to the sign-in page. */
function cancelSignIn(csrf: string): Html {
  return html`<form method="post" action="/sign-out" class="cancel">
  ${csrfField(csrf)}
  <button type="submit" class="secondary" id="cancel-sign-in">Cancel sign-in</button>
</form>`;
}

/**
 * `currentSet`: after a wrong code, the label of the person's current set. Every sheet carries its set's
 * label, so someone typing a code from a replaced sheet sees that the labels differ.
 */
export function recoveryCodeFormPage(state: FormState & { currentSet?: string }): Html {
  return html`<h1>Use a recovery code</h1>
${errorBox(state.error)}${
  state.currentSet
    ? html`<p class="warning" id="current-set-hint">Your current recovery codes are the <strong>${state.currentSet}</strong>, as printed on their sheet. A code from a sheet with another set no longer works: that set was replaced.</p>`
    : ''
}
<p>Enter one of the recovery codes you saved when you set up two-factor authentication. Each code works once. Spaces, dashes and capital letters do not matter.</p>
<form method="post" action="/sign-in/recovery" class="stack">
  ${csrfField(state.csrf)}
  <label for="recovery-code">Recovery code</label>
  <input id="recovery-code" name="code" type="text" autocomplete="off" autocapitalize="characters" spellcheck="false" maxlength="64" required autofocus>
  ${rememberBox('remember-recovery')}
  <button type="submit">Verify</button>
</form>
<ul class="alternatives">
  <li><a href="/sign-in/two-factor">Use your authenticator app or email instead</a></li>
  <li><a href="/lost-access">No recovery codes either?</a></li>
</ul>
${cancelSignIn(state.csrf)}`;
}

export function recoverySignedInPage(input: {
  remaining: number;
  total: number;
  low: boolean;
  csrf: string;
  /** Where the person was going when asked to sign in (an application). */
  continueHref?: string;
}): Html {
  return html`<h1>You are signed in</h1>
<p class="notice" role="status">You used a recovery code. <strong>You have ${input.remaining} recovery code${input.remaining === 1 ? '' : 's'} left</strong> (of ${input.total}).</p>
${
  input.remaining === 0
    ? html`<p class="warning" role="alert">That was your last recovery code. Generate new ones now, or you may be locked out next time.</p>`
    : input.low
      ? html`<p class="warning" role="alert">You are running low on recovery codes. Generate a new set soon.</p>`
      : ''
}
<p>If you lost your authenticator, set it up again in your two-factor settings.</p>
${input.continueHref ? html`<p><a class="button" href="${input.continueHref}" id="continue">Continue to the application</a></p>` : ''}
<p><a class="button" href="/settings/two-factor/recovery-codes/regenerate">Generate new recovery codes</a> <a href="/settings/two-factor">Go to two-factor settings</a></p>`;
}

export function mfaDisabledAfterRecoveryPage(input: { continueHref?: string } = {}): Html {
  return html`<h1>Two-factor authentication is off</h1>
<p class="notice" role="status">You signed in with a recovery code. As this site requires, that turned two-factor authentication off for your account and deleted your remaining recovery codes.</p>
<p>Your account is now protected by your password only. Set up two-factor authentication again now: you will get a new authenticator registration and new recovery codes.</p>
<p><a class="button" href="/settings/two-factor">Set up two-factor authentication again</a></p>
${input.continueHref ? html`<p><a href="${input.continueHref}" id="continue">Continue to the application without it</a> (an application that requires two-factor will ask you to set it up first).</p>` : ''}`;
}

/** The emailed unlock link's page: the password is the other half of the proof. */
export function unlockPage(state: FormState & { token: string }): Html {
  return html`<h1>Unlock two-factor sign-in</h1>
${errorBox(state.error)}
<p>Too many wrong attempts locked two-factor sign-in for your account. Enter your password to unlock it; then sign in as usual with your authenticator, email code or a recovery code.</p>
<form method="post" action="/unlock" class="stack">
  ${csrfField(state.csrf)}
  <input type="hidden" name="token" value="${state.token}">
  <label for="unlock-password">Password</label>
  <input id="unlock-password" name="password" type="password" autocomplete="current-password" maxlength="4096" required autofocus>
  <button type="submit">Unlock</button>
</form>`;
}

/** "Forgot password?": the answer never says whether the address has an account. */
export function forgotPasswordPage(state: FormState & { sent?: boolean }): Html {
  if (state.sent) {
    return html`<h1>Check your email</h1>
<p role="status" id="reset-sent">If an account uses that address, we sent it a link to choose a new password. The link works once, for 30 minutes.</p>
<p>No email? Check your spam folder, or <a href="/forgot-password">ask again</a> in a few minutes.</p>
<p><a href="/sign-in">Back to sign in</a></p>`;
  }
  return html`<h1>Reset your password</h1>
${errorBox(state.error)}
<p>Enter the email address of your account. We will send you a link to choose a new password.</p>
<form method="post" action="/forgot-password" class="stack">
  ${csrfField(state.csrf)}
  <label for="reset-email">Email address</label>
  <input id="reset-email" name="email" type="email" autocomplete="username" maxlength="320" required autofocus value="${state.email ?? ''}">
  <button type="submit">Send the link</button>
</form>
<p><a href="/sign-in">Back to sign in</a></p>`;
}

/**
 * The emailed link's page. With two-factor on, the link only proves the inbox: a code from the
 * authenticator app or a recovery code is asked for too.
 */
export function resetPasswordPage(
  state: FormState & { token: string; account: string; secondFactorRequired: boolean; hasTotp: boolean },
): Html {
  return html`<h1>Choose a new password</h1>
${errorBox(state.error)}
<p>For <strong>${state.account}</strong>. Every device signed in to your account will be signed out.</p>
<form method="post" action="/reset-password" class="stack">
  ${csrfField(state.csrf)}
  <input type="hidden" name="token" value="${state.token}">
  <label for="new-password">New password</label>
  <input id="new-password" name="password" type="password" autocomplete="new-password" minlength="8" maxlength="4096" required aria-describedby="new-password-hint" autofocus>
  <p class="hint" id="new-password-hint">At least 8 characters. Long passphrases are welcome; common or breached passwords are refused.</p>
  ${
    state.secondFactorRequired
      ? html`<fieldset class="stack">
  <legend>Your account has two-factor authentication</legend>
  ${
    state.hasTotp
      ? html`<label for="reset-totp">A code from your authenticator app</label>
  <input id="reset-totp" name="totpCode" type="text" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]*" maxlength="12">
  <p class="or">or</p>`
      : ''
  }
  <label for="reset-recovery">One of your recovery codes</label>
  <input id="reset-recovery" name="recoveryCode" type="text" autocomplete="off" autocapitalize="characters" spellcheck="false" maxlength="64">
  <p class="hint">A recovery code works once: it is used up by this reset.</p>
</fieldset>`
      : ''
  }
  <button type="submit">Set the new password</button>
</form>`;
}
