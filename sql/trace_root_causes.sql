-- trace_root_causes: the root-cause spans found for the error records of one trace ($trace_id), most
-- cited first, with the key evidence — to mark them in the waterfall.
SELECT root_span_id, reason, count(*) AS errors, max(confidence) AS confidence,
       round(max(root_lock_ms), 1) AS lock_ms,
       any_value(coalesce(list_filter(evidence, lambda e: starts_with(e, 'slow query'))[1], evidence[1]))
           AS key_evidence
FROM root_causes
WHERE trace_id = $trace_id AND root_span_id IS NOT NULL
GROUP BY root_span_id, reason
ORDER BY errors DESC, root_span_id
