// Stand-in for the app module that doc blocks import as `../src/my-token-store.js`: your own
// TokenStore over your database client.
export declare const MyTokenStore: new (
  db: import('gatehouse/postgres').Queryable,
) => import('gatehouse').TokenStore;
