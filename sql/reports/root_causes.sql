-- root-causes: what caused the errors, one row per distinct root cause (service, span name, reason),
-- most error records first. Filters: $since, $until (UTC, NULL = open), $service (the erring service).
SELECT coalesce(root_service, '?') AS root_service,
       coalesce(root_name, '?') AS root_name,
       reason,
       count(*) AS errors,
       count(*) FILTER (WHERE is_upstream_symptom) AS upstream_errors,
       string_agg(DISTINCT service, ', ' ORDER BY service) AS erring_services,
       min(ts) AS first_ts,
       max(ts) AS last_ts,
       round(max(root_lock_ms), 1) AS max_lock_ms,
       round(max(coalesce(root_query_ms, root_duration_ms)), 1) AS max_duration_ms,
       max(confidence) AS confidence,
       arg_max(trace_id, confidence) AS example_trace,
       arg_max(coalesce(list_filter(evidence, lambda e: starts_with(e, 'slow query'))[1], evidence[1]), confidence)
           AS example_evidence
FROM root_causes
WHERE ($since IS NULL OR ts >= $since) AND ($until IS NULL OR ts < $until)
  AND ($service IS NULL OR service = $service)
GROUP BY ALL
ORDER BY errors DESC, root_service, root_name, reason
