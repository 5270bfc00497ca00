-- host_skew: one row per log host (the service when a record names no host): the clock-skew correction to add
-- to its log timestamps, estimated from its exactly linked records (span_id present in the spans).
-- Each such record's residual is how far its time lies outside its span (0 inside); the correction is minus
-- the median residual — robust to the odd late or early line — when the host has at least
-- $skew_min_pairs exact pairs and the median is beyond $tolerance_ms; else 0. Raw timestamps are never
-- rewritten: log_links carries the correction as skew_ms and uses it for time-based placement.
WITH exact AS (
    SELECT coalesce(l.host, l.service) AS host,
           CASE WHEN l.ts < s.start_ts THEN date_diff('microsecond', s.start_ts, l.ts) / 1000.0
                WHEN l.ts > s.end_ts THEN date_diff('microsecond', s.end_ts, l.ts) / 1000.0
                ELSE 0.0 END AS residual_ms
    FROM stg_logs AS l
    JOIN spans AS s ON right(s.trace_id, 16) = right(l.trace_id, 16) AND s.span_id = l.span_id
                   AND same_trace(s.trace_id, l.trace_id)
    WHERE l.span_id IS NOT NULL AND l.ts IS NOT NULL AND coalesce(l.host, l.service) IS NOT NULL
)
SELECT host, count(*) AS exact_pairs, median(residual_ms) AS median_residual_ms,
       CASE WHEN count(*) >= $skew_min_pairs AND abs(median(residual_ms)) > $tolerance_ms
            THEN -median(residual_ms) ELSE 0.0 END AS skew_ms
FROM exact
GROUP BY host
