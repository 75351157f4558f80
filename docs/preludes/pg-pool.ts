// Hidden prelude of doc blocks marked `<!-- prelude: pg-pool -->`: a pg pool
// (`new pg.Pool({ connectionString: process.env.DATABASE_URL })`).
declare const pool: import('pg').Pool;
