-- request_matches: one row per log record that carries no trace ID but names its request — a request ID,
-- or the request path together with the user — with the trace it belongs to when that is unambiguous: the
-- traces that have a span of the record's own service carrying the same request attributes and containing
-- the record (a service whose logging knows nothing of tracing, while a mesh or agent traces it).
-- Request attributes of a record: its attribute bag (request_id, path, user, …) or its message
-- ('request_id=…', 'user=…', a '/path'); of a span: x-request-id header / request.id, url.path or
-- http.target, enduser.id / user.id.
-- A candidate span contains the record's time (ts + skew_ms, ± $tolerance_ms) and matches on
--   request_id   the request IDs are equal                                  0.95
--   path_user    path and user are equal (and request IDs do not differ)     0.8
-- A differing value on either key rules a span out. candidates counts the distinct traces with the best
-- kind of match: exactly 1 → trace_id is set and log_links places the record in that trace like a record
-- that carries the ID (method request_attr); 0 → no span carries the request (log_link_gaps: no_match);
-- more → ambiguous, no link.
WITH lg AS (
    SELECT l.source_file, l.source_line, l.ts, l.service,
           coalesce(h.skew_ms, 0.0) AS skew_ms,
           skewed(l.ts, h.skew_ms) AS ts_fixed,
           nullif(coalesce(l.attributes['request_id'], l.attributes['request.id'], l.attributes['req_id'],
                           l.attributes['requestId'], l.attributes['x_request_id'],
                           l.attributes['http.request.header.x-request-id'],
                           regexp_extract(l.message, '(?i)\brequest[_.-]?id[=: ]+"?([A-Za-z0-9._:-]*[A-Za-z0-9])', 1)),
                  '') AS request_id,
           nullif(regexp_extract(coalesce(l.attributes['path'], l.attributes['url.path'], l.attributes['http.target'],
                                          l.attributes['uri'],
                                          regexp_extract(l.message, '(?:^|[ "=])(/[A-Za-z0-9._~%/-]*)', 1)),
                                 '^[^?]*'), '') AS path,
           nullif(coalesce(l.attributes['user'], l.attributes['user_id'], l.attributes['user.id'],
                           l.attributes['userId'], l.attributes['enduser.id'],
                           regexp_extract(l.message, '(?i)\buser(?:[_.]?id)?[=: ]+"?([A-Za-z0-9._@-]+)', 1)),
                  '') AS user_id
    FROM stg_logs AS l
    LEFT JOIN host_skew AS h ON h.host = coalesce(l.host, l.service)
    WHERE l.trace_id IS NULL AND l.ts IS NOT NULL AND l.service IS NOT NULL
),
keyed AS (
    SELECT *, epoch(ts_fixed)::BIGINT AS sec FROM lg
    WHERE request_id IS NOT NULL OR (path IS NOT NULL AND user_id IS NOT NULL)
),
sp AS (
    SELECT trace_id, span_id, service, start_ts, end_ts,
           nullif(regexp_replace(coalesce(attributes['http.request.header.x-request-id'], attributes['request.id'],
                                          attributes['http.request_id'], attributes['x-request-id']),
                                 '^\["?|"?\]$', '', 'g'), '') AS request_id,
           nullif(regexp_extract(coalesce(attributes['url.path'], attributes['http.target']), '^[^?]*'), '') AS path,
           nullif(coalesce(attributes['enduser.id'], attributes['user.id']), '') AS user_id
    FROM spans
    WHERE service IN (SELECT DISTINCT service FROM keyed)
),
requests AS (
    -- spans that carry request attributes, one row per second they cover (an equality key for the join)
    SELECT sp.*, unnest(generate_series(epoch(start_ts - to_milliseconds($tolerance_ms))::BIGINT,
                                        epoch(end_ts + to_milliseconds($tolerance_ms))::BIGINT)) AS sec
    FROM sp
    WHERE request_id IS NOT NULL OR (path IS NOT NULL AND user_id IS NOT NULL)
),
cand AS (
    SELECT k.source_file, k.source_line, r.trace_id,
           CASE WHEN k.request_id = r.request_id THEN 'request_id' ELSE 'path_user' END AS match
    FROM keyed AS k
    JOIN requests AS r ON r.service = k.service AND r.sec = k.sec
                      AND k.ts_fixed >= r.start_ts - to_milliseconds($tolerance_ms)
                      AND k.ts_fixed <= r.end_ts + to_milliseconds($tolerance_ms)
    WHERE (k.request_id = r.request_id
           OR (k.path = r.path AND k.user_id = r.user_id
               AND (k.request_id IS NULL OR r.request_id IS NULL)))
),
best AS (
    SELECT source_file, source_line, arg_min(match, match <> 'request_id') AS match
    FROM cand
    GROUP BY source_file, source_line
),
counted AS (
    SELECT b.source_file, b.source_line, b.match, count(DISTINCT c.trace_id) AS candidates,
           min(c.trace_id) AS trace_id
    FROM best AS b
    JOIN cand AS c ON c.source_file = b.source_file AND c.source_line = b.source_line AND c.match = b.match
    GROUP BY ALL
)
SELECT k.source_file, k.source_line, k.ts, k.skew_ms, c.match, coalesce(c.candidates, 0) AS candidates,
       CASE WHEN c.candidates = 1 THEN c.trace_id END AS trace_id,
       CAST(CASE c.match WHEN 'request_id' THEN 0.95 WHEN 'path_user' THEN 0.8 END AS DOUBLE) AS confidence
FROM keyed AS k
LEFT JOIN counted AS c ON c.source_file = k.source_file AND c.source_line = k.source_line
