/**
 * The baseline of the HTTP benchmark: Fastify answering a constant from one Node process, as SpareKey's
 * server is one Node process. Listens on PORT on 127.0.0.1.
 */
import Fastify from 'fastify';

const app = Fastify();
app.post('/hello', async () => ({ hello: 'world' }));
// The forward-auth bench's baseline: a GET with an empty answer, as a verdict is.
app.get('/hello', async (_request, reply) => reply.code(200).send());
await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT) });
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
