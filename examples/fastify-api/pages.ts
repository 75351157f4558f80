import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type Auth, markGuard, markPublic } from 'gatehouse';
import { type AuthHttp, createAuthHttp, type HttpResponse, MAX_BODY_BYTES } from 'gatehouse/http';
import { loadPageFiles } from '../common/pages.js';

/**
 * The browser pages on Fastify, as the Express example serves them: the same files from
 * examples/express-api/public with the same CSP, each on a fixed path (public on purpose).
 */
export function registerPages(app: FastifyInstance): void {
  for (const file of loadPageFiles()) {
    for (const path of file.paths) {
      app.get(path, { config: { public: true } }, async (_request, reply) =>
        reply.headers(file.headers).type(file.contentType).send(file.body),
      );
    }
  }
}

function send(reply: FastifyReply, response: HttpResponse): FastifyReply {
  return reply.code(response.status).headers(response.headers).send(response.body);
}

/**
 * The cookie-mode auth routes the pages call, under `prefix` (the Express example mounts a second
 * `gatehouseExpress` there). The Fastify plugin decorates the app, so it is registered once (for
 * the bearer-mode API); these routes come straight from the core's HTTP layer, which holds every
 * rule (CSRF, cookies, limits): the handlers only translate. JWKS is left to the plugin (one key
 * set for both instances). Returns the cookie-mode HTTP layer, whose guards the app's own page
 * routes use.
 */
export async function registerCookieAuthRoutes(
  app: FastifyInstance,
  auth: Auth,
  prefix: string,
): Promise<AuthHttp> {
  const http = createAuthHttp(auth, { prefix });
  await app.register(async (routes) => {
    // Raw bytes (16 KiB at most) to the core, as the plugin's own routes get them.
    routes.removeAllContentTypeParsers();
    routes.addContentTypeParser(
      '*',
      { parseAs: 'buffer', bodyLimit: MAX_BODY_BYTES },
      (_request, body, done) => done(null, body),
    );
    for (const route of http.routes) {
      if (!route.path.startsWith(`${prefix}/`)) continue; // the JWKS route
      routes.route({
        method: route.method,
        url: route.path,
        config: { public: route.public },
        errorHandler: (error, _request, reply) => send(reply, http.errorResponse(error)),
        handler: (route.public ? markPublic : markGuard)(
          async (request: FastifyRequest, reply: FastifyReply) =>
            send(
              reply,
              await route.handle({
                method: request.method,
                headers: request.headers,
                rawHeaders: request.raw.rawHeaders,
                ip: request.ip,
                body: request.body instanceof Uint8Array ? request.body : undefined,
                // `/sessions/:id`: Fastify decoded the route's parameters.
                params: request.params as Record<string, string>,
              }),
            ),
        ),
      });
    }
  });
  return http;
}
