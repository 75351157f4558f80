// A whole Fastify app with gatehouse, shown in docs/getting-started.md (a test keeps them equal).
// Run: JWT_SECRET=$(openssl rand -base64 32) npx tsx examples/getting-started/fastify.ts
import Fastify from 'fastify';
import { createAuth, seedPolicy, type TokenKeyInput } from 'gatehouse';
import { contractFrameworkErrors, gatehouseFastify } from 'gatehouse/fastify';

const keys: TokenKeyInput[] = [{ kid: '2025-06', alg: 'HS256', key: process.env.JWT_SECRET }];
const auth = createAuth({ policy: seedPolicy, tokens: { keys } });

const app = Fastify({ frameworkErrors: contractFrameworkErrors });
await app.register(gatehouseFastify, { auth }); // the same routes as Express

app.get(
  '/api/users/:id',
  {
    preHandler: [
      app.authenticate,
      app.authorize('users:read', {
        resource: (request) => auth.getUser((request.params as { id: string }).id),
      }),
    ],
  },
  async (request) => ({ success: true, user: request.authResource }),
);

const port = Number(process.env.PORT ?? 3000);
await app.listen({ port, host: '127.0.0.1' });
console.log(`Listening on http://127.0.0.1:${port}`);
