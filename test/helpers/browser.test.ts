import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { browserAvailable, launchBrowser, newTestPage } from './browser.js';

/**
 * The web product's session cookie is `__Host-` prefixed, hence Secure, yet the browser tests serve plain
 * http://127.0.0.1. That works only because Chromium counts loopback as a secure context; this proves it.
 */
describe.skipIf(!browserAvailable())('the test browser', () => {
  let browser: Browser;
  let server: Server;
  let url: string;
  /** The Cookie header of each form submission the server received. */
  const submitted: (string | undefined)[] = [];

  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res) => {
      if (req.method === 'POST' && req.url === '/submit') {
        submitted.push(req.headers.cookie);
        req.resume();
        req.on('end', () => {
          res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
          res.end('<!doctype html><title>Done</title><h1>Received</h1>');
        });
        return;
      }
      res.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'set-cookie': '__Host-t=1; Path=/; Secure; HttpOnly; SameSite=Lax',
      });
      res.end(
        '<!doctype html><title>Form</title><form method="post" action="/submit">' +
          '<input name="x" value="y"><button>Send</button></form>',
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise<void>((resolve) => server?.close(() => resolve()) ?? resolve());
  });

  test('keeps a Secure __Host- cookie over http://127.0.0.1 and sends it with a form post', async () => {
    const { context, page } = await newTestPage(browser, { javaScriptEnabled: false });
    try {
      await page.goto(url);
      const [cookie] = await context.cookies(url);
      expect(cookie).toMatchObject({
        name: '__Host-t',
        value: '1',
        secure: true,
        httpOnly: true,
        sameSite: 'Lax',
      });

      await page.getByRole('button', { name: 'Send' }).click();
      await page.getByRole('heading', { name: 'Received' }).waitFor();
      expect(submitted).toEqual(['__Host-t=1']);
    } finally {
      await context.close();
    }
  });
});
