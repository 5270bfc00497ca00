-- clock-skew: one row per log host (the service when a record names no host): the correction tracejoin adds to
-- its log times when placing them on spans (skew_ms, from the median distance of its exactly linked records to
-- their spans; 0 when too few or within tolerance), and how many of its records were linked.
-- Filters: $since, $until, $service.
SELECT coalesce(l.host, l.service) AS host, any_value(l.service) AS service,
       count(*) FILTER (WHERE k.method = 'span_id') AS exact_pairs,
       count(*) AS linked_records,
       round(any_value(k.skew_ms), 1) AS skew_ms
FROM log_links AS k
JOIN logs AS l ON l.source_file = k.source_file AND l.source_line = k.source_line
WHERE ($since IS NULL OR l.ts >= $since) AND ($until IS NULL OR l.ts < $until)
  AND ($service IS NULL OR l.service = $service)
GROUP BY 1
ORDER BY abs(any_value(k.skew_ms)) DESC, host
