-- link-coverage: per record type, service (for slow queries: the database) and input format, how many
-- records were placed in a trace and how, and why the others were not (log_link_gaps, query_link_gaps):
--   unlinked_no_id        no trace ID in the record and nothing that names its request
--   unlinked_no_match     a request named in it (or, for a query, its shape and time) that no span carries
--   unlinked_ambiguous    it fits spans of several traces equally, so it was not placed
--   unlinked_sampled_out  its trace ID names a trace that has no spans (sampled out)
-- by_id = placed by its own span ID; by_time = on the span of its service (or statement shape) that contains
-- it; span_missing counts records whose own span ID is not among their trace's exported spans (placed by
-- time, on the trace root, or not at all). Filters: $since, $until, $service.
WITH recs AS (
    SELECT 'log' AS record, l.service, l.format, l.span_id IS NOT NULL AS has_span_id, ll.method,
           ll.method = 'span_id' AS by_id, g.reason
    FROM logs AS l
    LEFT JOIN log_links AS ll ON ll.source_file = l.source_file AND ll.source_line = l.source_line
    LEFT JOIN log_link_gaps AS g ON g.source_file = l.source_file AND g.source_line = l.source_line
    WHERE ($since IS NULL OR l.ts >= $since) AND ($until IS NULL OR l.ts < $until)
      AND ($service IS NULL OR l.service = $service)
    UNION ALL
    SELECT 'slow_query', coalesce(q.db, q.engine), q.format, q.span_id IS NOT NULL, k.method,
           k.method = 'traceparent_comment',
           CASE g.reason WHEN 'no_candidate' THEN 'no_match' ELSE g.reason END
    FROM slow_queries AS q
    LEFT JOIN query_links AS k ON k.source_file = q.source_file AND k.source_line = q.source_line
    LEFT JOIN query_link_gaps AS g ON g.source_file = q.source_file AND g.source_line = q.source_line
    WHERE ($since IS NULL OR q.ts >= $since) AND ($until IS NULL OR q.ts < $until)
      AND ($service IS NULL OR coalesce(q.db, q.engine) = $service)
)
SELECT record, service, format,
       count(*) AS records,
       count(method) AS linked,
       round(100.0 * count(method) / count(*), 1) AS linked_pct,
       count(*) FILTER (WHERE by_id) AS by_id,
       count(*) FILTER (WHERE method IN ('trace_time', 'comment_trace_time', 'time_window')) AS by_time,
       count(*) FILTER (WHERE method = 'trace_root') AS by_trace_root,
       count(*) FILTER (WHERE method = 'request_attr') AS by_request_attr,
       count(*) FILTER (WHERE has_span_id AND NOT coalesce(by_id, false) AND reason IS DISTINCT FROM 'sampled_out')
           AS span_missing,
       count(*) FILTER (WHERE reason = 'no_id') AS unlinked_no_id,
       count(*) FILTER (WHERE reason = 'no_match') AS unlinked_no_match,
       count(*) FILTER (WHERE reason = 'ambiguous') AS unlinked_ambiguous,
       count(*) FILTER (WHERE reason = 'sampled_out') AS unlinked_sampled_out
FROM recs
GROUP BY record, service, format
ORDER BY record, service, format
