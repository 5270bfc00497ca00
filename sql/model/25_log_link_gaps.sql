-- log_link_gaps: one row per log record that log_links could not place, with the reason (link-coverage):
--   sampled_out  it names a trace that has no spans (sampled out, or that trace was never exported)
--   ambiguous    no trace ID; its request attributes match spans of more than one trace (request_matches)
--   no_match     no trace ID; it names a request (request_matches), but no span of its service at that time
--                carries it
--   no_id        no trace ID and nothing that names its request
-- span_missing on linked records (a span ID that is not among its trace's spans) is counted by link-coverage
-- from log_links.method.
SELECT l.ts, l.source_file, l.source_line, l.service, l.format,
       CASE WHEN l.trace_id IS NOT NULL THEN 'sampled_out'
            WHEN rm.candidates > 1 THEN 'ambiguous'
            WHEN rm.source_file IS NOT NULL THEN 'no_match'
            ELSE 'no_id' END AS reason,
       nullif(rm.candidates, 0) AS candidates
FROM stg_logs AS l
LEFT JOIN request_matches AS rm ON rm.source_file = l.source_file AND rm.source_line = l.source_line
ANTI JOIN log_links AS ll ON ll.source_file = l.source_file AND ll.source_line = l.source_line
