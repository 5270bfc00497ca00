-- no_trace_candidates: for every error record whose trace has no spans (sampled out, not instrumented, no
-- trace ID), the evidence from other services around it, ranked (DESIGN §6 step 5).
-- Grain: one row per (error record, candidate), rank 1 = best, at most 5 per record.
-- Candidates: error/warning logs and slow queries that share the record's trace ID (strong), and those of
-- other services in the window [ts - $window_before_ms, ts + $window_after_ms] (weak). A candidate that is
-- itself an upstream symptom ranks lower: it passes an error on rather than causing it.
-- A slow query's service is the one whose database spans issue that statement shape.
WITH e AS (
    SELECT source_file, source_line, ts, service, trace_id FROM error_records WHERE anchor_span_id IS NULL
),
shape_service AS (
    SELECT db_fingerprint AS fingerprint, service
    FROM spans
    WHERE db_fingerprint IS NOT NULL
    GROUP BY db_fingerprint, service
    QUALIFY row_number() OVER (PARTITION BY db_fingerprint ORDER BY count(*) DESC, service) = 1
),
notable_logs AS (
    SELECT source_file, source_line, ts, service, level, trace_id, first_line(message) AS name,
           len(list_filter($symptoms, lambda p: contains(lower(message), lower(p)))) > 0 AS is_symptom
    FROM stg_logs
    WHERE level IN ('ERROR', 'FATAL', 'WARN')
),
queries AS (
    SELECT q.source_file, q.source_line, q.ts, coalesce(q.end_ts, q.ts) AS end_ts, q.trace_id, q.lock_ms,
           q.duration_ms, coalesce(ss.service, q.server, q.engine) AS service,
           coalesce(statement_name(q.fingerprint), 'statement') AS name
    FROM stg_slow_queries AS q
    LEFT JOIN shape_service AS ss ON ss.fingerprint = q.fingerprint
),
log_cands AS (
    SELECT e.source_file, e.source_line, 'log' AS kind, l.service, l.name, l.level, l.is_symptom,
           l.source_file AS c_file, l.source_line AS c_line, true AS same_trace,
           abs(date_diff('millisecond', l.ts, e.ts)) AS dist_ms,
           CAST(NULL AS DOUBLE) AS lock_ms, CAST(NULL AS DOUBLE) AS duration_ms
    FROM e JOIN notable_logs AS l ON l.trace_id = e.trace_id AND l.service IS DISTINCT FROM e.service
    UNION ALL
    SELECT e.source_file, e.source_line, 'log', l.service, l.name, l.level, l.is_symptom,
           l.source_file, l.source_line, false, abs(date_diff('millisecond', l.ts, e.ts)), NULL, NULL
    FROM e JOIN notable_logs AS l
         ON l.ts >= e.ts - to_milliseconds($window_before_ms) AND l.ts <= e.ts + to_milliseconds($window_after_ms)
    WHERE l.service IS DISTINCT FROM e.service AND l.trace_id IS DISTINCT FROM e.trace_id
),
query_cands AS (
    SELECT e.source_file, e.source_line, 'slow_query' AS kind, q.service, q.name, NULL AS level,
           false AS is_symptom, q.source_file AS c_file, q.source_line AS c_line, true AS same_trace,
           abs(date_diff('millisecond', q.end_ts, e.ts)) AS dist_ms, q.lock_ms, q.duration_ms
    FROM e JOIN queries AS q ON q.trace_id = e.trace_id
    UNION ALL
    SELECT e.source_file, e.source_line, 'slow_query', q.service, q.name, NULL, false,
           q.source_file, q.source_line, false, abs(date_diff('millisecond', q.end_ts, e.ts)), q.lock_ms,
           q.duration_ms
    FROM e JOIN queries AS q
         ON q.ts <= e.ts AND q.end_ts >= e.ts - to_milliseconds($window_before_ms)
    WHERE q.trace_id IS DISTINCT FROM e.trace_id
),
scored AS (
    SELECT *,
           (CASE WHEN same_trace THEN 10 ELSE 0 END)
           + (CASE WHEN kind = 'slow_query' THEN 2 ELSE 1 END)
           + (CASE WHEN coalesce(lock_ms, 0) >= 50 THEN 2 WHEN coalesce(duration_ms, 0) >= 500 THEN 1 ELSE 0 END)
           + (CASE WHEN level IN ('ERROR', 'FATAL') THEN 1 ELSE 0 END)
           - (CASE WHEN is_symptom THEN 3 ELSE 0 END)
           + 1.0 / (1 + dist_ms / 1000.0) AS score
    FROM (SELECT * FROM log_cands UNION ALL SELECT * FROM query_cands)
)
SELECT *,
       row_number() OVER (PARTITION BY source_file, source_line ORDER BY score DESC, c_file, c_line) AS rank
FROM scored
QUALIFY rank <= 5
