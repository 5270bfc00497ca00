-- Link figures against the generator's per-record truth (view truth_records: source_file, source_line,
-- record 'log'|'slow_query', trace_id, span_id, id_form, sampled, fault_kind): one row per fault kind
-- (NULL = all kinds), record type and ID form (for slow queries: with/without a trace comment).
--   expected  the record's true span was exported, so a right link is possible
--   linked    tracejoin placed it on a span
--   right     ... on its true span
WITH placed AS (
    SELECT t.record, coalesce(t.fault_kind, 'none') AS kind,
           CASE WHEN t.record = 'log' THEN t.id_form
                WHEN t.has_comment THEN 'comment' ELSE 'no_comment' END AS form,
           t.span_id IS NOT NULL AND t.sampled AS expected,
           k.span_id IS NOT NULL AS linked,
           k.span_id IS NOT NULL AND k.span_id = t.span_id AND right(k.trace_id, 16) = right(t.trace_id, 16) AS is_right
    FROM truth_records AS t
    LEFT JOIN (SELECT source_file, source_line, trace_id, span_id FROM log_links
               UNION ALL
               SELECT source_file, source_line, trace_id, span_id FROM query_links) AS k
           ON k.source_file = t.source_file AND k.source_line = t.source_line
)
SELECT kind, record, form,
       count(*) AS records,
       count(*) FILTER (WHERE expected) AS expected,
       count(*) FILTER (WHERE linked) AS linked,
       count(*) FILTER (WHERE is_right) AS right_links
FROM placed
GROUP BY GROUPING SETS ((kind, record, form), (record, form))
ORDER BY kind NULLS LAST, record, form
