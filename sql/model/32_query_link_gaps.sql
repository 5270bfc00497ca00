-- query_link_gaps: one row per slow query that query_links could not place, with the reason (link-coverage):
--   sampled_out   its comment names a trace that has no spans (sampled out, or never exported)
--   span_missing  its comment's trace has spans, but not its span nor one candidate in that trace
--   ambiguous     no comment; several database client spans fit it equally (candidates)
--   no_candidate  no comment, and no database client span of its statement shape fits it in time
WITH counts AS (
    SELECT source_file, source_line, count(*) AS candidates FROM query_candidates GROUP BY ALL
),
traced AS (
    SELECT DISTINCT right(trace_id, 16) AS tlow FROM spans
)
SELECT q.ts, q.source_file, q.source_line, q.engine, q.db, q.format,
       CASE WHEN q.trace_id IS NOT NULL AND t.tlow IS NULL THEN 'sampled_out'
            WHEN q.trace_id IS NOT NULL THEN 'span_missing'
            WHEN c.candidates > 1 THEN 'ambiguous'
            ELSE 'no_candidate' END AS reason,
       coalesce(c.candidates, 0) AS candidates
FROM stg_slow_queries AS q
LEFT JOIN counts AS c ON c.source_file = q.source_file AND c.source_line = q.source_line
LEFT JOIN traced AS t ON t.tlow = right(q.trace_id, 16)
ANTI JOIN query_links AS k ON k.source_file = q.source_file AND k.source_line = q.source_line
