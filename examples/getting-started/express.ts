// A whole Express app with gatehouse, shown in docs/getting-started.md (a test keeps them equal).
// Run: JWT_SECRET=$(openssl rand -base64 32) npx tsx examples/getting-started/express.ts
import express from 'express';
import { createAuth, seedPolicy, type TokenKeyInput } from 'gatehouse';
import { gatehouseExpress } from 'gatehouse/express';

const keys: TokenKeyInput[] = [{ kid: '2025-06', alg: 'HS256', key: process.env.JWT_SECRET }];
const auth = createAuth({ policy: seedPolicy, tokens: { keys } });

const gate = gatehouseExpress(auth);
const app = express();
app.use(gate.router); // POST /api/auth/register, login, refresh, logout...; GET /.well-known/jwks.json

app.get(
  '/api/users/:id',
  gate.authenticate(),
  gate.authorize('users:read', { resource: (req) => auth.getUser(req.params.id) }),
  (req, res) => res.json({ success: true, user: req.authResource }),
);

app.use(gate.errorHandler); // last: gatehouse errors answer { success: false, error, code }

const port = Number(process.env.PORT ?? 3000);
app.listen(port, '127.0.0.1', () => console.log(`Listening on http://127.0.0.1:${port}`));
