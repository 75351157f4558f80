// Hidden prelude of doc blocks marked `<!-- prelude: postgres -->`: the pool and the stores of
// docs/postgres.md's first block (`const db = createPostgresStores(pool)`).
declare const pool: import('pg').Pool;
declare const db: import('gatehouse/postgres').PostgresStores;
