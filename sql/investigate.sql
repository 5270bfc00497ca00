-- investigate: every error record in [$since, $until) (optionally of $service) with its root cause, in
-- time order — the answer to "what failed around 14:32?".
SELECT ts, service, level, message, is_upstream_symptom, root_service, root_name, reason, confidence,
       round(root_lock_ms, 1) AS lock_ms, round(coalesce(root_query_ms, root_duration_ms), 1) AS root_ms,
       coalesce(list_filter(evidence, lambda e: starts_with(e, 'slow query'))[1], evidence[1]) AS key_evidence,
       trace_id, source_file, source_line
FROM root_causes
WHERE ts >= $since AND ts < $until
  AND ($service IS NULL OR service = $service)
ORDER BY ts, source_file, source_line
