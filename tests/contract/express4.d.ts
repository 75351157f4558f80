// The `express4` dev dependency is Express 4 under another name (npm:express@4.x), so the
// contract suites can run the adapter on both majors. It ships no types: it is typed as
// Express 5 (@types/express), which is what the adapter compiles against; the runtime
// differences (Express 4 ignores a handler's rejected promise) are the adapter's to handle.
declare module 'express4' {
  import express from 'express';
  export default express;
}
