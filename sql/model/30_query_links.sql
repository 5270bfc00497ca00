-- query_links: one row per slow query placed on a span, from its candidates (query_candidates).
-- method / confidence:
--   traceparent_comment  the sqlcommenter traceparent names an exported span            1.0
--   comment_trace_time   the comment's trace has spans but not that span: the one       0.9
--                        candidate of that trace
--   time_window          no trace comment: the one candidate anywhere. Several           0.8
--                        candidates: no link (query_link_gaps says 'ambiguous').
-- A query whose comment names a trace without spans (sampled out) is never placed on another trace.
WITH by_comment AS (
    SELECT source_file, source_line, ts, trace_id, span_id FROM query_candidates WHERE exact
),
contained AS (
    SELECT * FROM query_candidates WHERE NOT exact
),
by_comment_trace AS (
    SELECT source_file, source_line, any_value(ts) AS ts, any_value(trace_id) AS trace_id,
           any_value(span_id) AS span_id
    FROM contained
    WHERE q_trace IS NOT NULL AND q_tlow = tlow AND same_trace(trace_id, q_trace)
    GROUP BY source_file, source_line
    HAVING count(*) = 1
),
by_window AS (
    SELECT source_file, source_line, any_value(ts) AS ts, any_value(trace_id) AS trace_id,
           any_value(span_id) AS span_id
    FROM contained
    WHERE q_trace IS NULL
    GROUP BY source_file, source_line
    HAVING count(*) = 1
)
SELECT source_file, source_line, ts, trace_id, span_id, 'traceparent_comment' AS method, CAST(1.0 AS DOUBLE) AS confidence
FROM by_comment
UNION ALL
SELECT source_file, source_line, ts, trace_id, span_id, 'comment_trace_time', 0.9 FROM by_comment_trace
UNION ALL
SELECT source_file, source_line, ts, trace_id, span_id, 'time_window', 0.8 FROM by_window
