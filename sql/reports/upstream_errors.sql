-- upstream-errors: one row per error record that reports an upstream failure (a symptom pattern such as
-- 'upstream service error'), with the root cause found for it. Filters: $since, $until, $service.
SELECT ts, service, message, root_service, root_name, reason, confidence,
       round(root_lock_ms, 1) AS lock_ms,
       coalesce(list_filter(evidence, lambda e: starts_with(e, 'slow query'))[1], evidence[1]) AS key_evidence,
       trace_id, source_file, source_line
FROM root_causes
WHERE is_upstream_symptom
  AND ($since IS NULL OR ts >= $since) AND ($until IS NULL OR ts < $until)
  AND ($service IS NULL OR service = $service)
ORDER BY ts, source_file, source_line
