-- query_candidates: for every slow query, the spans it may be placed on (query_links decides).
--   exact = true   its sqlcommenter traceparent names an exported span (that span, one row)
--   exact = false  a database client span of the same statement shape that is the statement in time and
--                  agrees on database, user and client host (see the rules below); q_trace is the comment's
--                  trace when it names one
-- A candidate matches the query's statement shape (fingerprint), engine and time (± $tolerance_ms).
-- A candidate span must be the statement itself, not a longer call around it: its start and end each lie
-- within max($tolerance_ms, 2% of the span) of the statement's (a query of a sampled-out trace is
-- otherwise placed on another request's long span that happens to contain it), and it lasted at least as
-- long as the statement (less 0.5 ms or 0.5%): a client span measures the server's work plus the network.
-- A candidate span must also agree, where both sides name them, on the database (db.name / db.namespace),
-- the database user (db.user) and the client host: an IP-like client_host against the span's host.ip /
-- client address attributes, a host name against host.name. A value missing on either side rules nothing out.
-- Spans seldom carry their host's IP, so the IP → host.name pairs are learned from the exactly linked
-- queries (traceparent comments): an IP always seen with one host name stands for that host.
WITH q AS (
    SELECT source_file, source_line, ts, end_ts, duration_ms, engine, db, db_user, fingerprint, trace_id, span_id,
           client_host, regexp_matches(coalesce(client_host, ''), '^[0-9.]+$|:') AS client_is_ip,
           right(trace_id, 16) AS tlow
    FROM stg_slow_queries
),
dbs AS (
    SELECT trace_id, span_id, start_ts, end_ts, duration_ms, db_system, db_fingerprint,
           coalesce(attributes['db.namespace'], attributes['db.name']) AS db_name,
           attributes['db.user'] AS db_user,
           coalesce(resource_attributes['host.ip'], attributes['network.local.address'],
                    attributes['net.sock.host.addr'], attributes['client.address']) AS host_ip,
           resource_attributes['host.name'] AS host_name,
           greatest($tolerance_ms, 0.02 * duration_ms) AS edge_ms,
           right(trace_id, 16) AS tlow
    FROM spans
    WHERE db_fingerprint IS NOT NULL
),
by_comment AS (
    SELECT q.source_file, q.source_line, q.ts, s.trace_id, s.span_id
    FROM q
    JOIN spans AS s ON right(s.trace_id, 16) = q.tlow AND s.span_id = q.span_id AND same_trace(s.trace_id, q.trace_id)
    QUALIFY row_number() OVER (PARTITION BY q.source_file, q.source_line
                               ORDER BY (s.db_system IS NOT NULL) DESC, s.span_id) = 1
),
ip_host AS (
    SELECT q.client_host, any_value(s.resource_attributes['host.name']) AS host_name
    FROM by_comment AS b
    JOIN q ON q.source_file = b.source_file AND q.source_line = b.source_line
    JOIN spans AS s ON s.trace_id = b.trace_id AND s.span_id = b.span_id
    WHERE q.client_is_ip AND s.resource_attributes['host.name'] IS NOT NULL
    GROUP BY q.client_host
    HAVING count(DISTINCT s.resource_attributes['host.name']) = 1
),
contained AS (
    -- candidate database client spans for every query, by statement shape and time containment
    SELECT q.source_file, q.source_line, q.ts, q.trace_id AS q_trace, q.tlow AS q_tlow,
           d.trace_id, d.span_id, d.tlow
    FROM q
    LEFT JOIN ip_host AS ih ON ih.client_host = q.client_host
    JOIN dbs AS d ON d.db_fingerprint = q.fingerprint
                 AND (d.db_system IS NULL OR q.engine IS NULL OR d.db_system = q.engine
                      OR (q.engine = 'postgresql' AND d.db_system = 'postgres'))
                 AND (d.db_name IS NULL OR q.db IS NULL OR d.db_name = q.db)
                 AND (d.db_user IS NULL OR q.db_user IS NULL OR d.db_user = q.db_user)
                 AND (q.client_host IS NULL
                      OR (q.client_is_ip AND d.host_ip IS NOT NULL AND contains(d.host_ip, q.client_host))
                      OR (q.client_is_ip AND d.host_ip IS NULL
                          AND (d.host_name IS NULL OR ih.host_name IS NULL OR ih.host_name = d.host_name))
                      OR (NOT q.client_is_ip AND (d.host_name IS NULL OR d.host_name = q.client_host
                                                  OR starts_with(d.host_name, q.client_host || '.')
                                                  OR starts_with(q.client_host, d.host_name || '.'))))
                 AND d.start_ts <= q.ts + to_milliseconds($tolerance_ms)
                 AND d.end_ts >= coalesce(q.end_ts, q.ts) - to_milliseconds($tolerance_ms)
                 -- the span is this statement, not a longer one around it: both edges agree
                 AND abs(date_diff('microsecond', d.start_ts, q.ts)) / 1000.0 <= d.edge_ms
                 AND abs(date_diff('microsecond', d.end_ts, coalesce(q.end_ts, q.ts))) / 1000.0 <= d.edge_ms
                 -- the client waited at least as long as the server worked (clock offsets do not matter here)
                 AND (q.duration_ms IS NULL
                      OR d.duration_ms >= q.duration_ms - greatest(0.5, 0.005 * q.duration_ms))
    ANTI JOIN by_comment AS b ON b.source_file = q.source_file AND b.source_line = q.source_line
)
SELECT b.source_file, b.source_line, b.ts, q.trace_id AS q_trace, q.tlow AS q_tlow, b.trace_id, b.span_id,
       right(b.trace_id, 16) AS tlow, true AS exact
FROM by_comment AS b
JOIN q ON q.source_file = b.source_file AND q.source_line = b.source_line
UNION ALL
SELECT *, false FROM contained
