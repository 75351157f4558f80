// Hidden prelude of doc blocks marked `<!-- prelude: auth -->`: the instance made by createAuth
// earlier on the page (see tests/docs/doc-snippets.ts).
declare const auth: import('gatehouse').Auth<typeof import('gatehouse').seedPolicy>;
