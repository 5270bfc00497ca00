-- no_trace_candidates: for every error record whose trace has no spans (sampled out, not instrumented, no
-- trace ID), the evidence from other services around it, ranked (DESIGN §6 step 5).
-- Grain: one row per (error record, candidate), rank 1 = best, at most 5 per record.
-- Candidates: error/warning logs and slow queries that share the record's trace ID (strong), and those of
-- other services in the window [ts - $window_before_ms, ts + $window_after_ms] (weak). A candidate that is
-- itself an upstream symptom ranks lower: it passes an error on rather than causing it. Services the erring
-- service calls (learned from other traces' spans) rank higher, services that call it lower. The record
-- itself is a candidate too (kind 'self'), ranked just below same-trace errors of other services: with
-- nothing downstream, its own service is the best answer.
-- A slow query's service is the one whose database spans issue that statement shape.
-- A service the error record names (a URL host 'http://payment-service/…', 'payment-service timed out') is
-- strong evidence: its candidates rank higher, and it is a candidate of its own (kind 'named') even when none
-- of its records is near — an error line that names whom it called is usually right about who failed; so
-- candidates of services that are neither the named one nor downstream of it rank lower.
-- A call refused by an open circuit breaker failed in the record's own service without any call being made:
-- the record itself ranks first (the breaker's span is the root cause when spans exist), the named service
-- that tripped it next.
WITH RECURSIVE e0 AS (
    SELECT source_file, source_line, ts, service, trace_id, level, first_line(message) AS name,
           is_upstream_symptom,
           regexp_matches(message, '(?i)circuit ?breaker\b.*\bopen\b|short-circuited') AS breaker_open
    FROM error_records
    WHERE anchor_span_id IS NULL
),
services AS (
    SELECT DISTINCT service FROM spans WHERE service IS NOT NULL
    UNION
    SELECT DISTINCT service FROM stg_logs WHERE service IS NOT NULL
),
named AS (
    SELECT e.source_file, e.source_line, sv.service
    FROM e0 AS e JOIN services AS sv
         ON sv.service IS DISTINCT FROM e.service
        AND regexp_matches(lower(e.name), '(^|[^a-z0-9_-])' || regexp_escape(lower(sv.service)) || '([^a-z0-9_-]|$)')
),
e AS (
    SELECT e0.*, EXISTS (SELECT 1 FROM named AS n WHERE n.source_file = e0.source_file
                                                  AND n.source_line = e0.source_line) AS names_service
    FROM e0
),
calls AS (
    -- caller service -> callee service, from every exported parent/child pair that crosses services,
    -- and from services without spans (a gateway's access log) whose records sit on a trace's root
    SELECT DISTINCT p.service AS caller, c.service AS callee
    FROM spans AS c JOIN spans AS p ON p.trace_id = c.trace_id AND p.span_id = c.parent_span_id
    WHERE p.service <> c.service
    UNION
    SELECT DISTINCT l.service, s.service
    FROM log_links AS ll
    JOIN stg_logs AS l ON l.source_file = ll.source_file AND l.source_line = ll.source_line
    JOIN spans AS s ON s.trace_id = ll.trace_id AND s.span_id = ll.span_id
    WHERE ll.method = 'trace_root' AND l.service NOT IN (SELECT DISTINCT service FROM spans WHERE service IS NOT NULL)
),
downstream(caller, callee) AS (
    SELECT caller, callee FROM calls
    UNION
    SELECT d.caller, c.callee FROM downstream AS d JOIN calls AS c ON c.caller = d.callee
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
named_cands AS (
    SELECT n.source_file, n.source_line, 'named' AS kind, n.service, 'named in the error message' AS name,
           NULL AS level, false AS is_symptom, n.source_file AS c_file, n.source_line AS c_line,
           false AS same_trace, 0 AS dist_ms, CAST(NULL AS DOUBLE) AS lock_ms, CAST(NULL AS DOUBLE) AS duration_ms
    FROM named AS n
),
self_cands AS (
    SELECT source_file, source_line, 'self' AS kind, service, name, level, is_upstream_symptom AS is_symptom,
           source_file AS c_file, source_line AS c_line, trace_id IS NOT NULL AS same_trace, 0 AS dist_ms,
           CAST(NULL AS DOUBLE) AS lock_ms, CAST(NULL AS DOUBLE) AS duration_ms
    FROM e
),
cands AS (
    SELECT * FROM log_cands UNION ALL SELECT * FROM query_cands UNION ALL SELECT * FROM self_cands
    UNION ALL SELECT * FROM named_cands
),
scored AS (
    SELECT c.*,
           (CASE WHEN c.same_trace THEN 10 ELSE 0 END)
           + (CASE WHEN c.kind = 'slow_query' THEN 2 ELSE 1 END)
           + (CASE WHEN coalesce(c.lock_ms, 0) >= 50 THEN 2 WHEN coalesce(c.duration_ms, 0) >= 500 THEN 1 ELSE 0 END)
           + (CASE WHEN c.level IN ('ERROR', 'FATAL') THEN 1 ELSE 0 END)
           - (CASE WHEN c.is_symptom THEN 3 ELSE 0 END)
           + (CASE WHEN c.kind = 'self' THEN -1
                   WHEN dn.callee IS NOT NULL THEN 4
                   WHEN up.callee IS NOT NULL THEN -4
                   ELSE 0 END)
           + (CASE WHEN nm.service IS NOT NULL THEN 6
                   WHEN c.kind <> 'self' AND e.names_service
                        AND NOT EXISTS (SELECT 1 FROM named AS n2 JOIN downstream AS d2 ON d2.caller = n2.service
                                        WHERE n2.source_file = c.source_file AND n2.source_line = c.source_line
                                          AND d2.callee = c.service) THEN -6
                   ELSE 0 END)
           + (CASE WHEN c.kind = 'self' AND e.breaker_open THEN 20 ELSE 0 END)
           + 1.0 / (1 + c.dist_ms / 1000.0) AS score
    FROM cands AS c
    JOIN e ON e.source_file = c.source_file AND e.source_line = c.source_line
    LEFT JOIN named AS nm ON nm.source_file = c.source_file AND nm.source_line = c.source_line
                         AND nm.service = c.service
    LEFT JOIN downstream AS dn ON dn.caller = e.service AND dn.callee = c.service
    LEFT JOIN downstream AS up ON up.caller = c.service AND up.callee = e.service
)
SELECT *,
       row_number() OVER (PARTITION BY source_file, source_line ORDER BY score DESC, c_file, c_line) AS rank
FROM scored
QUALIFY rank <= 5
