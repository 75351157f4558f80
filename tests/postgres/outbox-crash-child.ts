// An app instance that dies without warning, for tests/postgres/outbox.test.ts. It opens the
// database (PGlite in a folder, or the server at DATABASE_URL in a schema), does one thing,
// prints `done <json>` and then waits to be killed with SIGKILL: no close, no cleanup.
//
//   node --import tsx tests/postgres/outbox-crash-child.ts pglite <dir> issue '<json>'
//   node --import tsx tests/postgres/outbox-crash-child.ts server <schema> claim '<json>'
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import {
  migrate,
  PostgresMailOutbox,
  PostgresOneTimeTokenStore,
  type Queryable,
} from '../../adapters/postgres/index.js';

const [kind, where, action, payload] = process.argv.slice(2);
const input = JSON.parse(payload ?? '{}');

let client: Queryable;
let options = {};
if (kind === 'pglite') {
  const db = new PGlite(where);
  await db.waitReady;
  await migrate(db);
  client = db;
} else {
  const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 2 });
  pool.on('error', () => {});
  client = pool;
  options = { schema: where };
}

let result: unknown;
if (action === 'issue') {
  await new PostgresOneTimeTokenStore(client, options).issue(input.record, input.mail);
  result = { issued: input.record.tokenHash };
} else if (action === 'claim') {
  const claimed = await new PostgresMailOutbox(client, options).claim(input.now, 10, input.leaseMs);
  result = { claimed: claimed.map((m) => m.id) };
} else {
  throw new Error(`unknown action ${action}`);
}
process.stdout.write(`done ${JSON.stringify(result)}\n`);
// Stay alive (as a server would) until the test kills the process.
setInterval(() => {}, 60_000);
