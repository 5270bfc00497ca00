-- host_skew: one row per log host (the service when a record names no host): the clock-skew correction to add
-- to its log timestamps, estimated from the records whose trace is known.
-- Each such record gives the interval of corrections that would put it inside where it belongs:
--   exact pair  it carries a span ID that was exported: [span start - ts, span end - ts]
--   trace pair  it carries only a trace ID: the same against the outermost interval of its service's spans
--               in that trace (first start to last end)
-- The host's correction is the point covered by the most intervals (a sweep over their ends; among equally
-- covered stretches the one nearest 0, and its midpoint). It is applied only when the host has at least
-- $skew_min_pairs pairs and 0 itself would leave more than 5% of the best coverage unexplained; else 0 — so a
-- few odd lines never move a host, and a host whose records sit inside their spans keeps its clock.
-- Raw timestamps are never rewritten: log_links carries the correction as skew_ms and uses it for placement.
WITH exact AS (
    SELECT coalesce(l.host, l.service) AS host, l.source_file, l.source_line,
           date_diff('microsecond', l.ts, s.start_ts) / 1000.0 AS lo,
           date_diff('microsecond', l.ts, s.end_ts) / 1000.0 AS hi
    FROM stg_logs AS l
    JOIN spans AS s ON right(s.trace_id, 16) = right(l.trace_id, 16) AND s.span_id = l.span_id
                   AND same_trace(s.trace_id, l.trace_id)
    WHERE l.span_id IS NOT NULL AND l.ts IS NOT NULL AND coalesce(l.host, l.service) IS NOT NULL
    QUALIFY row_number() OVER (PARTITION BY l.source_file, l.source_line ORDER BY s.kind) = 1
),
by_trace AS (
    SELECT coalesce(l.host, l.service) AS host, l.source_file, l.source_line,
           date_diff('microsecond', any_value(l.ts), min(s.start_ts)) / 1000.0 AS lo,
           date_diff('microsecond', any_value(l.ts), max(s.end_ts)) / 1000.0 AS hi
    FROM stg_logs AS l
    JOIN spans AS s ON right(s.trace_id, 16) = right(l.trace_id, 16) AND same_trace(s.trace_id, l.trace_id)
                   AND s.service = l.service
    WHERE l.span_id IS NULL AND l.trace_id IS NOT NULL AND l.ts IS NOT NULL
      AND coalesce(l.host, l.service) IS NOT NULL
    GROUP BY ALL
),
pairs AS (
    SELECT host, lo, hi, true AS is_exact FROM exact
    UNION ALL
    SELECT host, lo, hi, false FROM by_trace
),
events AS (
    SELECT host, lo AS v, 1 AS d FROM pairs
    UNION ALL
    SELECT host, hi, -1 FROM pairs
),
sweep AS (
    SELECT host, v,
           sum(d) OVER (PARTITION BY host ORDER BY v, d DESC ROWS UNBOUNDED PRECEDING) AS cover,
           lead(v) OVER (PARTITION BY host ORDER BY v, d DESC) AS next_v
    FROM events
),
best AS (
    SELECT host, cover AS best_cover, (v + next_v) / 2 AS best_ms
    FROM sweep
    WHERE next_v IS NOT NULL
    QUALIFY rank() OVER (PARTITION BY host ORDER BY cover DESC) = 1
        AND row_number() OVER (PARTITION BY host, cover
                               ORDER BY CASE WHEN v <= 0 AND next_v >= 0 THEN 0 ELSE least(abs(v), abs(next_v)) END,
                                        v) = 1
),
stats AS (
    SELECT host, count(*) FILTER (WHERE is_exact) AS exact_pairs, count(*) FILTER (WHERE NOT is_exact) AS trace_pairs,
           count(*) AS pairs,
           count(*) FILTER (WHERE lo <= $tolerance_ms AND hi >= -$tolerance_ms) AS inside_at_zero
    FROM pairs
    GROUP BY host
)
SELECT s.host, s.exact_pairs, s.trace_pairs, s.inside_at_zero, b.best_cover AS inside_at_best,
       CASE WHEN s.pairs >= $skew_min_pairs AND s.inside_at_zero < 0.95 * b.best_cover
                 AND abs(b.best_ms) > $tolerance_ms
            THEN round(b.best_ms, 3) ELSE 0.0 END AS skew_ms
FROM stats AS s
JOIN best AS b ON b.host = s.host
