import type { KoaContextWithOIDC } from 'oidc-provider';
import { html, trustedHtml } from '../web/html.js';
import { layout } from '../web/layout.js';

/**
 * The pages oidc-provider itself renders, in SpareKey's look: its error page (a refused authorization
 * request whose redirect URI cannot be trusted is shown here, never redirected), the RP-initiated
 * logout confirmation and the signed-out page. Every value is escaped by `html`.
 */
const SITE = 'SpareKey';

function send(ctx: KoaContextWithOIDC, title: string, body: ReturnType<typeof html>): void {
  ctx.type = 'html';
  ctx.body = layout({ title, siteName: SITE }, body).toString();
}

export async function errorPage(
  ctx: KoaContextWithOIDC,
  out: { error?: string; error_description?: string },
): Promise<void> {
  send(
    ctx,
    'Sign-in refused',
    html`<h1>This sign-in cannot continue</h1>
<p class="error" role="alert">The application's request was refused: <strong id="oidc-error">${out.error ?? 'error'}</strong>${out.error_description ? html` (${out.error_description})` : ''}.</p>
<p>Nothing was sent back to the application. If you followed a link from it, tell its administrator.</p>
<p><a href="/">Go to SpareKey</a></p>`,
  );
}

export async function logoutPage(ctx: KoaContextWithOIDC, form: string): Promise<void> {
  const name = ctx.oidc.client?.clientName ?? ctx.oidc.client?.clientId;
  send(
    ctx,
    'Sign out',
    html`<h1>Sign out${name ? html` of ${name}` : ''}?</h1>
${trustedHtml(form)}
<p>This ends your sign-in to the applications that use SpareKey in this browser.</p>
<div class="actions">
  <button autofocus type="submit" form="op.logoutForm" value="yes" name="logout" id="confirm-logout">Yes, sign me out</button>
  <button type="submit" form="op.logoutForm" class="secondary">No, stay signed in</button>
</div>`,
  );
}

export async function signedOutPage(ctx: KoaContextWithOIDC): Promise<void> {
  const name = ctx.oidc.client?.clientName ?? ctx.oidc.client?.clientId;
  send(
    ctx,
    'Signed out',
    html`<h1>You are signed out</h1><p>You signed out${name ? html` of ${name}` : ''}.</p><p><a href="/">Go to SpareKey</a></p>`,
  );
}
