// Stand-in for the app module that doc blocks import as `./my-user-store.js`: your own UserStore
// over your database client.
export declare const MyUserStore: new (
  db: import('gatehouse/postgres').Queryable,
) => import('gatehouse').UserStore;
