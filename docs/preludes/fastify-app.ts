// Hidden prelude of doc blocks marked `<!-- prelude: fastify-app -->`: the app of the page's first
// Fastify block, with the gatehouse plugin registered.
declare const auth: import('gatehouse').Auth<typeof import('gatehouse').seedPolicy>;
declare const app: import('fastify').FastifyInstance;
