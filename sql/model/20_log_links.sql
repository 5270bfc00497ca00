-- log_links: one row per log record that could be placed in a trace (DESIGN §3, §6 step 1).
-- method / confidence:
--   span_id     the record's span_id is an exported span of its trace            1.0
--   trace_time  innermost span of the record's service in its trace that        0.9
--               contains the record's time (a span containing it exactly before
--               one that does only within ± $tolerance_ms)
--   trace_root  the trace has spans but none of the record's service contains   0.6
--               it: the record is placed on the trace's root
--   request_attr  no trace ID, but its request names one trace (request_matches): then placed as by
--                 trace_time in that trace, with the match's confidence               0.95 / 0.8
-- skew_ms is the clock-skew correction of the record's host (host_skew); time containment uses ts + skew_ms.
WITH lg AS (
    SELECT l.source_file, l.source_line, l.ts, l.service, coalesce(l.trace_id, rm.trace_id) AS trace_id, l.span_id,
           right(coalesce(l.trace_id, rm.trace_id), 16) AS tlow,
           coalesce(h.skew_ms, 0.0) AS skew_ms, skewed(l.ts, h.skew_ms) AS ts_fixed,
           rm.confidence AS request_confidence  -- set when the trace comes from the record's request
    FROM stg_logs AS l
    LEFT JOIN host_skew AS h ON h.host = coalesce(l.host, l.service)
    LEFT JOIN request_matches AS rm ON l.trace_id IS NULL AND rm.trace_id IS NOT NULL
                                   AND rm.source_file = l.source_file AND rm.source_line = l.source_line
    WHERE l.trace_id IS NOT NULL OR rm.trace_id IS NOT NULL
),
sp AS (
    SELECT trace_id, span_id, service, start_ts, end_ts, is_root, right(trace_id, 16) AS tlow
    FROM spans
),
by_span AS (
    SELECT lg.source_file, lg.source_line, lg.ts, lg.skew_ms, sp.trace_id, sp.span_id
    FROM lg
    JOIN sp ON sp.tlow = lg.tlow AND sp.span_id = lg.span_id AND same_trace(sp.trace_id, lg.trace_id)
    QUALIFY row_number() OVER (PARTITION BY lg.source_file, lg.source_line
                               ORDER BY (sp.service = lg.service) DESC NULLS LAST, sp.span_id) = 1
),
rest AS (
    SELECT lg.* FROM lg
    ANTI JOIN by_span AS b ON b.source_file = lg.source_file AND b.source_line = lg.source_line
),
by_time AS (
    SELECT rest.source_file, rest.source_line, rest.ts, rest.skew_ms, rest.request_confidence, sp.trace_id,
           sp.span_id
    FROM rest
    JOIN sp ON sp.tlow = rest.tlow AND same_trace(sp.trace_id, rest.trace_id) AND sp.service = rest.service
           AND rest.ts_fixed >= sp.start_ts - to_milliseconds($tolerance_ms)
           AND rest.ts_fixed <= sp.end_ts + to_milliseconds($tolerance_ms)
    QUALIFY row_number() OVER (PARTITION BY rest.source_file, rest.source_line
                               ORDER BY (rest.ts_fixed BETWEEN sp.start_ts AND sp.end_ts) DESC,
                                        sp.start_ts DESC, sp.end_ts, sp.span_id) = 1
),
rest2 AS (
    SELECT rest.* FROM rest
    ANTI JOIN by_time AS b ON b.source_file = rest.source_file AND b.source_line = rest.source_line
),
by_root AS (
    SELECT rest2.source_file, rest2.source_line, rest2.ts, rest2.skew_ms, sp.trace_id, sp.span_id
    FROM rest2
    JOIN sp ON sp.tlow = rest2.tlow AND same_trace(sp.trace_id, rest2.trace_id) AND sp.is_root
    WHERE rest2.request_confidence IS NULL  -- a request match is a span of its service containing it, or nothing
    QUALIFY row_number() OVER (PARTITION BY rest2.source_file, rest2.source_line
                               ORDER BY sp.start_ts, sp.span_id) = 1
)
SELECT source_file, source_line, ts, trace_id, span_id, 'span_id' AS method, CAST(1.0 AS DOUBLE) AS confidence,
       CAST(skew_ms AS DOUBLE) AS skew_ms
FROM by_span
UNION ALL
SELECT source_file, source_line, ts, trace_id, span_id,
       CASE WHEN request_confidence IS NULL THEN 'trace_time' ELSE 'request_attr' END,
       coalesce(request_confidence, 0.9), skew_ms
FROM by_time
UNION ALL
SELECT source_file, source_line, ts, trace_id, span_id, 'trace_root', 0.6, skew_ms FROM by_root
