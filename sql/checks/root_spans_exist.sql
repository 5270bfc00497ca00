-- root_causes naming a root-cause span that is not in spans, or a traced reason without a span (no rows).
SELECT r.* FROM root_causes AS r
WHERE (r.root_span_id IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM spans AS s WHERE s.trace_id = r.trace_id AND s.span_id = r.root_span_id))
   OR (r.reason IN ('error_origin', 'critical_path') AND r.root_span_id IS NULL)
   OR (r.reason = 'no_trace' AND r.confidence > 0.5)
