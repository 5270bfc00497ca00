-- link-coverage: per service and input format, how many log records were placed in a trace and how, and
-- why the others were not (log_link_gaps): no ID in the record, a request named in it that no span carries,
-- a request that matches spans of several traces (ambiguous), or a trace ID whose trace has no spans
-- (sampled out). span_missing counts records whose span ID is not among their trace's exported spans; they
-- were placed by time or on the trace root instead. Filters: $since, $until, $service.
WITH l AS (
    SELECT l.service, l.format, l.span_id, ll.method, g.reason
    FROM logs AS l
    LEFT JOIN log_links AS ll ON ll.source_file = l.source_file AND ll.source_line = l.source_line
    LEFT JOIN log_link_gaps AS g ON g.source_file = l.source_file AND g.source_line = l.source_line
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
       count(*) FILTER (WHERE method = 'request_attr') AS by_request_attr,
       count(*) FILTER (WHERE method IN ('trace_time', 'trace_root') AND span_id IS NOT NULL) AS span_missing,
       count(*) FILTER (WHERE reason = 'no_id') AS unlinked_no_id,
       count(*) FILTER (WHERE reason = 'no_match') AS unlinked_no_match,
       count(*) FILTER (WHERE reason = 'ambiguous') AS unlinked_ambiguous,
       count(*) FILTER (WHERE reason = 'sampled_out') AS unlinked_sampled_out
FROM l
GROUP BY service, format
ORDER BY service, format
