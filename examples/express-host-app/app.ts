/**
 * An Express app that already has its own users table and sessions, adding TOTP and recovery codes with
 * SpareKey by its own user ids. Everything SpareKey-specific is in two-factor.ts (the glue); this file is
 * the host's own code: sign-up and sign-in with its passwords, cookie sessions, and one page behind them.
 * In your project, import from 'sparekey' instead of the relative path.
 */
import { randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';
import Database from 'better-sqlite3';
import express, { type Request } from 'express';
import type { SpareKeyOptions } from '../../src/index.js';
import { addTwoFactor } from './two-factor.js';

type Session = { userId: string; stage: 'password' | 'signed_in' };

export async function createHostApp(options: { database: string; sparekey: SpareKeyOptions }) {
  const db = new Database(options.database);
  db.exec('create table if not exists users (id integer primary key, email text unique, password text)');
  const sessions = new Map<string, Session>();
  const sessionOf = (request: Request) => sessions.get(/sid=([\w-]+)/.exec(request.headers.cookie ?? '')?.[1] ?? '');

  const app = express();
  app.use(express.json());
  const twoFactor = await addTwoFactor(app, sessionOf, options.sparekey);
  // The JSON API for the app's other backends (an API key with mfa:read or mfa:write), after express.json().
  app.use('/sparekey', await twoFactor.sparekey.middleware());

  app.post('/sign-up', (request, response) => {
    const salt = randomBytes(16);
    const hash = scryptSync(String(request.body.password), salt, 32);
    const row = db
      .prepare('insert into users (email, password) values (?, ?) returning id')
      .get(String(request.body.email), `${salt.toString('hex')}:${hash.toString('hex')}`) as { id: number };
    response.status(201).json({ id: row.id });
  });

  app.post('/sign-in', async (request, response) => {
    const user = db.prepare('select id, password from users where email = ?').get(String(request.body.email)) as
      | { id: number; password: string }
      | undefined;
    const [salt, hash] = (user?.password ?? '00:00').split(':').map((hex) => Buffer.from(hex, 'hex'));
    const given = scryptSync(String(request.body.password), salt as Buffer, 32);
    if (!user || !timingSafeEqual(given, hash as Buffer)) return response.status(401).json({ error: 'wrong' });
    const secondFactor = await twoFactor.needsSecondFactor(String(user.id));
    const sid = randomBytes(24).toString('base64url');
    sessions.set(sid, { userId: String(user.id), stage: secondFactor ? 'password' : 'signed_in' });
    response.cookie('sid', sid, { httpOnly: true, sameSite: 'lax' }).json({ secondFactor });
  });

  app.get('/account', (request, response) => {
    const session = sessionOf(request);
    if (session?.stage !== 'signed_in') return response.sendStatus(401);
    response.json({ userId: session.userId });
  });

  const close = async () => {
    await twoFactor.sparekey.close();
    db.close();
  };
  return { app, sparekey: twoFactor.sparekey, close };
}

// `SPAREKEY_SECRET=$(openssl rand -base64 32) npx tsx examples/express-host-app/app.ts`
if (import.meta.url === `file://${process.argv[1]}`) {
  const secret = process.env.SPAREKEY_SECRET;
  if (!secret) throw new Error('Set SPAREKEY_SECRET (openssl rand -base64 32)');
  const { app } = await createHostApp({
    database: 'host-app.db',
    sparekey: { database: { kind: 'sqlite', path: 'host-app-sparekey.db' }, secret },
  });
  app.listen(3002, () => console.log('Host app on http://127.0.0.1:3002'));
}
