// The Fastify example API: `npm run example:fastify`. Same configuration and contract as the
// Express example (see docs/configuration.md).
import { createExampleContext } from '../common/context.js';
import { loadConfig } from '../common/env.js';
import { closeOnSignals, printNextSteps, runExample } from '../common/lifecycle.js';
import { buildFastifyApp } from './app.js';

await runExample(async () => {
  const config = loadConfig();
  const ctx = await createExampleContext(config);
  const app = await buildFastifyApp(ctx);
  await app.listen({ port: config.PORT, host: config.HOST });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.PORT;
  printNextSteps(ctx, `http://${config.HOST}:${port}`, 'Fastify');
  ctx.logger.info('listening', { host: config.HOST, port });
  closeOnSignals(ctx, () => app.close());
});
