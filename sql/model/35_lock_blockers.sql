-- lock_blockers: for every slow query that waited on a lock (lock_ms >= $lock_wait_ms), the statement most
-- likely holding that lock: another slow query on the same database and table that had started before the
-- wait began and was still running when it ended, and did not itself wait long. Grain: one row per waiting
-- query (the longest-running candidate; ties: earliest start). Evidence, not proof: the slow log does not
-- record lock owners.
WITH q AS (
    SELECT source_file, source_line, ts, coalesce(end_ts, ts) AS end_ts, duration_ms, lock_ms, db, db_user,
           client_host, statement, statement_name(fingerprint) AS target
    FROM stg_slow_queries
    WHERE ts IS NOT NULL
)
SELECT w.source_file, w.source_line,
       b.source_file AS blocker_file, b.source_line AS blocker_line, b.statement AS blocker_statement,
       b.duration_ms AS blocker_ms, b.db_user AS blocker_user, b.client_host AS blocker_host
FROM q AS w
JOIN q AS b
  ON b.target = w.target
 AND b.db IS NOT DISTINCT FROM w.db
 AND b.ts <= w.ts
 AND b.end_ts >= w.ts + to_microseconds(CAST(w.lock_ms * 1000 AS BIGINT))
 AND NOT (b.source_file = w.source_file AND b.source_line = w.source_line)
 AND coalesce(b.lock_ms, 0) < $lock_wait_ms
WHERE w.lock_ms >= $lock_wait_ms
QUALIFY row_number() OVER (PARTITION BY w.source_file, w.source_line
                           ORDER BY b.duration_ms DESC, b.ts, b.source_file, b.source_line) = 1
