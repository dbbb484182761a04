import type { LightMyRequestResponse } from 'fastify';
import { errorMessages } from '../../src/core/errors.js';
import { escapeHtml } from '../../src/web/html.js';
import { FormClient } from '../helpers/web-client.js';
import type { ParityUser, ParityWorld } from './parity-world.js';

/**
 * What a person (or an app) sees at the end of one step, the same words for both edges: signed in or
 * done (`ok`), the second step owed, the two-factor setup owed before anything else, or refused with the
 * HTTP status and the error code (both edges take them from one catalog: core/errors.ts, http/error-status.ts;
 * a page shows the code's message, the API names the code).
 */
export type Outcome = 'ok' | 'second_factor' | 'must_set_up_2fa' | `refused ${number} ${string}`;

/** Both edges use one user agent, so sessions and audit rows of the two runs differ only where a flow does. */
const USER_AGENT = 'FormClient/1.0';

/** The pages: real form posts with the CSRF token of the page they came from, and cookies. */
export class PagesEdge {
  readonly name = 'pages';
  readonly browser: FormClient;
  constructor(readonly world: ParityWorld) {
    this.browser = new FormClient(world.app);
  }

  /** Opens `page`, then posts its form to `action` (the page's own address unless given). */
  async form(page: string, fields: Record<string, string>, action = page): Promise<Outcome> {
    await this.browser.get(page);
    return pageOutcome(await this.browser.post(action, fields));
  }

  /** Posts to `action` with the CSRF token of the page the last step answered with. */
  async submit(action: string, fields: Record<string, string>): Promise<Outcome> {
    return pageOutcome(await this.browser.post(action, fields));
  }

  /** The password step of /sign-in. */
  signIn(user: ParityUser): Promise<Outcome> {
    return this.form('/sign-in', { email: user.email, password: user.password });
  }

  /** Signed in, with the authenticator when a second step is owed (a row's starting point, not compared). */
  async signInFully(user: ParityUser): Promise<void> {
    let outcome = await this.signIn(user);
    if (outcome === 'second_factor')
      outcome = await this.form('/sign-in/two-factor', { code: user.totpNow() }, '/sign-in/two-factor/totp');
    if (outcome !== 'ok') throw new Error(`pages: ${user.email} could not sign in (${outcome})`);
  }

  /** Signs in ticking "don't ask again on this browser", then signs out: the browser is remembered. */
  async rememberThisBrowser(user: ParityUser): Promise<void> {
    await this.signIn(user);
    const done = await this.form(
      '/sign-in/two-factor',
      { code: user.totpNow(), remember: 'yes' },
      '/sign-in/two-factor/totp',
    );
    if (done !== 'ok') throw new Error(`pages: ${user.email} could not sign in (${done})`);
    await this.form('/settings/two-factor', {}, '/sign-out');
  }

  /** The session token this browser holds (its session cookie). */
  token(): string {
    return this.browser.cookies.get(this.world.app.sessionCookie.name) ?? '';
  }
}

export function pageOutcome(response: LightMyRequestResponse): Outcome {
  const status = response.statusCode;
  if (status === 303 && response.headers.location === '/sign-in/two-factor') return 'second_factor';
  if (status === 303 && String(response.headers.location).includes('notice=mfa-required'))
    return 'must_set_up_2fa';
  if (status < 400) return 'ok';
  return `refused ${status} ${codeShownOn(response.body)}`;
}

/** The error code whose message the page shows (the longest that matches, as one message may contain another). */
function codeShownOn(page: string): string {
  const shown = Object.entries(errorMessages)
    .filter(([, message]) => page.includes(escapeHtml(message)))
    .sort(([, a], [, b]) => b.length - a.length);
  return shown[0]?.[0] ?? 'no message';
}

// biome-ignore lint/suspicious/noExplicitAny: parsed JSON answers are read field by field
type Json = Record<string, any>;

/** The JSON API at /api/v1 as an app uses it: the session token of the last answer as a bearer token. */
export class JsonEdge {
  readonly name = 'json';
  sessionToken = '';
  /** The body of the last answer. */
  last: Json = {};
  constructor(readonly world: ParityWorld) {}

  /** POSTs (or GETs) under /api/v1 with the current token; a token in the answer replaces it. */
  async call(path: string, body?: Json, method: 'POST' | 'GET' = 'POST'): Promise<Outcome> {
    const response = await this.world.app.inject({
      method,
      url: `/api/v1${path}`,
      headers: {
        'user-agent': USER_AGENT,
        ...(this.sessionToken ? { authorization: `Bearer ${this.sessionToken}` } : {}),
      },
      ...(body === undefined ? {} : { payload: body }),
    });
    this.last = response.body && response.statusCode !== 204 ? (JSON.parse(response.body) as Json) : {};
    if (response.statusCode >= 400) return `refused ${response.statusCode} ${this.last.error?.code}`;
    if (typeof this.last.token === 'string') this.sessionToken = this.last.token;
    if (this.last.stage === 'second_factor') return 'second_factor';
    if (this.last.stage === 'two_factor_setup_required') return 'must_set_up_2fa';
    return 'ok';
  }

  signIn(user: ParityUser): Promise<Outcome> {
    return this.call('/auth/sign-in', { email: user.email, password: user.password });
  }

  async signInFully(user: ParityUser): Promise<void> {
    let outcome = await this.signIn(user);
    if (outcome === 'second_factor')
      outcome = await this.call('/auth/second-factor/totp', { code: user.totpNow() });
    if (outcome !== 'ok') throw new Error(`json: ${user.email} could not sign in (${outcome})`);
  }

  /** The remembered-browser token an earlier second step returned (the app keeps it with the device). */
  rememberedBrowser = '';

  /** Signs in asking to skip the second step next time, keeps the token it gets, then signs out. */
  async rememberThisBrowser(user: ParityUser): Promise<void> {
    await this.signIn(user);
    const done = await this.call('/auth/second-factor/totp', { code: user.totpNow(), rememberBrowser: true });
    if (done !== 'ok') throw new Error(`json: ${user.email} could not sign in (${done})`);
    this.rememberedBrowser = String(this.last.rememberedBrowser?.token ?? '');
    await this.call('/auth/sign-out');
    this.sessionToken = '';
  }

  token(): string {
    return this.sessionToken;
  }
}

export type Edge = PagesEdge | JsonEdge;
