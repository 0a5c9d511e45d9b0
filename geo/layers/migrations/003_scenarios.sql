-- lifecircle 003: saved what-if scenarios (POST /scenarios), shared by every service process
-- and host on the database. `record` is the scenario as the API returns it (name, saved,
-- add, move, remove, sites), kept as written (json, not jsonb, keeps its key order).
CREATE TABLE scenarios (
    name text PRIMARY KEY,
    saved_at timestamptz NOT NULL DEFAULT now(),
    record json NOT NULL
);
