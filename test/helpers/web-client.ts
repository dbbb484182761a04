import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { buildServer } from '../../src/build-server.js';
import { createTestEnvironment, type Engine, type TestEnvironment } from './service-deps.js';

/** The CSRF token of the first form on a page, if it has one. */
export function csrfTokenOn(page: string): string | undefined {
  return page.match(/name="_csrf" value="([^"]+)"/)?.[1];
}

/**
 * A browser-like client over Fastify's inject: it keeps cookies, reads the CSRF token from the last page,
 * and posts urlencoded forms. For HTTP-level tests of every error path; flows run in Chromium elsewhere.
 */
export class FormClient {
  readonly cookies = new Map<string, string>();
  lastPage = '';

  /** `remoteAddress`: the client's address as the server sees it (inject's default is 127.0.0.1). */
  constructor(
    readonly app: FastifyInstance,
    readonly remoteAddress?: string,
  ) {}

  private cookieHeader(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  private remember(response: LightMyRequestResponse): void {
    for (const cookie of response.cookies) {
      if (cookie.value === '' || (cookie.expires && cookie.expires.getTime() < Date.now()))
        this.cookies.delete(cookie.name);
      else this.cookies.set(cookie.name, cookie.value);
    }
    if (String(response.headers['content-type'] ?? '').startsWith('text/html')) this.lastPage = response.body;
  }

  async get(url: string): Promise<LightMyRequestResponse> {
    const response = await this.app.inject({
      method: 'GET',
      url,
      headers: { cookie: this.cookieHeader() },
      remoteAddress: this.remoteAddress,
    });
    this.remember(response);
    return response;
  }

  /** The CSRF token of the first form on the last page. */
  csrf(): string {
    const token = csrfTokenOn(this.lastPage);
    if (!token) throw new Error('no CSRF token on the last page');
    return token;
  }

  /** Posts a form with the CSRF token of the last page (unless `_csrf` is given, even as ''). */
  async post(url: string, fields: Record<string, string>): Promise<LightMyRequestResponse> {
    const body = new URLSearchParams({ _csrf: fields._csrf ?? this.csrf(), ...fields }).toString();
    const response = await this.app.inject({
      method: 'POST',
      url,
      headers: {
        cookie: this.cookieHeader(),
        'content-type': 'application/x-www-form-urlencoded',
        'user-agent': 'FormClient/1.0',
      },
      payload: body,
      remoteAddress: this.remoteAddress,
    });
    this.remember(response);
    return response;
  }

  /** Follows a 303 with a GET, as a browser does. */
  async follow(response: LightMyRequestResponse): Promise<LightMyRequestResponse> {
    const location = response.headers.location;
    if (response.statusCode !== 303 || typeof location !== 'string') {
      throw new Error(`expected a 303 redirect, got ${response.statusCode}: ${response.body.slice(0, 300)}`);
    }
    return this.get(location);
  }
}

export interface WebTestApp {
  env: TestEnvironment;
  app: FastifyInstance;
  client(): FormClient;
  close(): Promise<void>;
}

export async function createWebTestApp(
  engine: Engine = 'sqlite',
  options: { notifications?: boolean; setupToken?: string } = {},
): Promise<WebTestApp> {
  const env = await createTestEnvironment(engine, { notifications: options.notifications ?? true });
  const app = await buildServer({ deps: env.deps, setupToken: options.setupToken });
  await app.ready();
  return {
    env,
    app,
    client: () => new FormClient(app),
    close: async () => {
      await app.close();
      await env.close();
    },
  };
}

/** The visible text of the page's alert, for asserting on messages a person reads. */
export function alertText(body: string): string | undefined {
  const match = body.match(/role="alert"[^>]*>([\s\S]*?)<\/(?:div|p)>/);
  return match?.[1]
    ?.replace(/<[^>]+>/g, '')
    .replace(/&#39;/g, "'")
    .replace(/&quot;/g, '"')
    .trim();
}
