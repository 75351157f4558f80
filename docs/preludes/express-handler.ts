// Hidden prelude of doc blocks marked `<!-- prelude: express-handler -->`: code that runs inside
// an Express route handler `(req, res) => { ... }`.
declare const req: import('express').Request;
declare const res: import('express').Response;
