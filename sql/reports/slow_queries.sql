-- slow-queries: one row per statement shape (fingerprint) of the slow-query logs, slowest total first,
-- with how many were placed on a span and which services issued them. Filters: $since, $until, $service
-- (the service of the linked spans).
WITH q AS (
    SELECT q.*, ql.method, s.service
    FROM slow_queries AS q
    LEFT JOIN query_links AS ql ON ql.source_file = q.source_file AND ql.source_line = q.source_line
    LEFT JOIN spans AS s ON s.trace_id = ql.trace_id AND s.span_id = ql.span_id
    WHERE ($since IS NULL OR q.ts >= $since) AND ($until IS NULL OR q.ts < $until)
)
SELECT fingerprint_id, engine, any_value(db) AS db,
       count(*) AS calls,
       round(sum(duration_ms), 1) AS total_ms,
       round(avg(duration_ms), 1) AS avg_ms,
       round(max(duration_ms), 1) AS max_ms,
       round(max(lock_ms), 1) AS max_lock_ms,
       count(method) AS linked,
       string_agg(DISTINCT service, ', ' ORDER BY service) AS services,
       left(any_value(fingerprint), 120) AS fingerprint
FROM q
WHERE $service IS NULL OR service = $service
GROUP BY fingerprint_id, engine
ORDER BY total_ms DESC, fingerprint_id
