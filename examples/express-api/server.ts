// The Express example API: `npm run example`. Configuration comes from the environment
// (see docs/configuration.md); without DATABASE_URL it runs on an embedded PGlite database.
import { createExampleContext } from '../common/context.js';
import { loadConfig } from '../common/env.js';
import { createExampleServer, timeoutsOf } from '../common/http-server.js';
import { closeOnSignals, printNextSteps, runExample } from '../common/lifecycle.js';
import { buildExpressApp } from './app.js';

await runExample(async () => {
  const config = loadConfig();
  const ctx = await createExampleContext(config);
  const app = buildExpressApp(ctx);
  const server = createExampleServer(app, timeoutsOf(config));
  server.listen(config.PORT, config.HOST);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.PORT;
  printNextSteps(ctx, `http://${config.HOST}:${port}`, 'Express');
  ctx.logger.info('listening', { host: config.HOST, port });
  closeOnSignals(ctx, () => new Promise((resolve) => server.close(() => resolve())));
});
