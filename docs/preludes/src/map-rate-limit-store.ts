// Stand-in for the app module that doc blocks import as `../src/map-rate-limit-store.js`: the
// class written out in docs/custom-stores.md ("An example store").
export declare const MapRateLimitStore: new (
  maxKeys?: number,
) => import('gatehouse').RateLimitStore;
