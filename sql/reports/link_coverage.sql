-- link-coverage: per service and input format, how many log records were placed in a trace and how, and
-- why the others were not: no trace ID in the record, or a trace ID whose trace has no spans (sampled out
-- or not exported). Filters: $since, $until, $service.
WITH l AS (
    SELECT l.service, l.format, l.trace_id, ll.method,
           l.trace_id IS NOT NULL AND NOT EXISTS (
               SELECT 1 FROM spans AS s WHERE right(s.trace_id, 16) = right(l.trace_id, 16)) AS trace_without_spans
    FROM logs AS l
    LEFT JOIN log_links AS ll ON ll.source_file = l.source_file AND ll.source_line = l.source_line
    WHERE ($since IS NULL OR l.ts >= $since) AND ($until IS NULL OR l.ts < $until)
      AND ($service IS NULL OR l.service = $service)
)
SELECT service, format,
       count(*) AS records,
       count(method) AS linked,
       round(100.0 * count(method) / count(*), 1) AS linked_pct,
       count(*) FILTER (WHERE method = 'span_id') AS by_span_id,
       count(*) FILTER (WHERE method = 'trace_time') AS by_trace_time,
       count(*) FILTER (WHERE method = 'trace_root') AS by_trace_root,
       count(*) FILTER (WHERE method IS NULL AND trace_id IS NULL) AS unlinked_no_id,
       count(*) FILTER (WHERE method IS NULL AND trace_without_spans) AS unlinked_trace_without_spans,
       count(*) FILTER (WHERE method IS NULL AND trace_id IS NOT NULL AND NOT trace_without_spans)
           AS unlinked_other
FROM l
GROUP BY service, format
ORDER BY service, format
