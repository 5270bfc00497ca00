-- trace_spans: the spans of one trace ($trace_id, matched on the low 64 bits when one side has only 64),
-- in start order, for the waterfall.
SELECT trace_id, span_id, parent_span_id, service, name, kind, start_ts, end_ts, duration_ms, self_ms,
       status, status_message, http_status, is_root, is_error
FROM spans
WHERE right(trace_id, 16) = right($trace_id, 16)
  AND (trace_id = $trace_id OR starts_with(trace_id, '0000000000000000')
       OR starts_with($trace_id, '0000000000000000'))
ORDER BY start_ts, span_id
