// Hidden prelude of doc blocks marked `<!-- prelude: express-app -->`: the app of the page's
// first Express block (`const gate = gatehouseExpress(auth); const app = express();`).
declare const auth: import('gatehouse').Auth<typeof import('gatehouse').seedPolicy>;
declare const gate: import('gatehouse/express').ExpressAdapter;
declare const app: import('express').Express;
