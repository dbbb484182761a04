/**
 * A minimal Express app that embeds SpareKey: the JSON API is mounted at /sparekey/api/v1 and the app's
 * own route reads the signed-in user's MFA status through the library. In your project, import from
 * 'sparekey' instead of the relative path.
 */
import express from 'express';
import { createSpareKey, type SpareKeyOptions } from '../../src/index.js';

export async function createExampleApp(options: SpareKeyOptions) {
  const sparekey = await createSpareKey(options);
  const app = express();
  // This example lets end users sign in through SpareKey's JSON routes, so it asks for them (the
  // middleware is headless otherwise: only the API-key routes a backend calls).
  app.use('/sparekey', await sparekey.middleware({ endUserRoutes: true }));
  app.use(express.json());
  app.get('/', (_request, response) => {
    response.type('text').send('Example app. Sign in with POST /sparekey/api/v1/auth/sign-in.');
  });
  app.get('/users/:email/recovery-codes', async (request, response) => {
    const user = await sparekey.users.findByEmail(request.params.email);
    if (!user) {
      response.status(404).json({ error: { code: 'user_not_found' } });
      return;
    }
    response.json(await sparekey.recoveryCodes.status(user.id));
  });
  return { app, sparekey };
}

// `npx tsx examples/express-app/app.ts` runs it on an embedded SQLite file.
if (import.meta.url === `file://${process.argv[1]}`) {
  const secret = process.env.SPAREKEY_SECRET;
  if (!secret) throw new Error('Set SPAREKEY_SECRET (openssl rand -base64 32)');
  const { app } = await createExampleApp({ database: { kind: 'sqlite', path: 'example.db' }, secret });
  app.listen(3001, () => console.log('Example app on http://127.0.0.1:3001'));
}
