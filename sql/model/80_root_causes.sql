-- root_causes: one row per error log record (DESIGN §3, §6): its anchor span, the root-cause span, why
-- (reason), the path from anchor to cause as 'service: name', the evidence, and how sure we are.
-- reason: error_origin (deepest error span below the anchor), critical_path (latency origin: no error
-- below the anchor, or a timed-out call whose callee went on), no_trace (no spans: ranked evidence of
-- other services, see no_trace_candidates).
-- confidence = anchor confidence × 1.0 (error_origin) or 0.8 (critical_path); no_trace: 0.5 when the best
-- candidate is another service's record sharing the trace ID, 0.3 when it is only near in time or is the
-- record itself.
-- linked_trace_id: asynchronous work (a queue consumer in its own trace) names the trace that triggered it —
-- the span link (OTLP links, Jaeger FOLLOWS_FROM) of the anchor, a span on the path or the trace's root —
-- so the engineer can follow the error chain back to the request that produced the message. The other way
-- round, a record whose request published work that failed in a consumer's trace gets that failure as its
-- root cause (error_origin across the link); root_trace_id then names the consumer's trace.
WITH resolved AS (
    SELECT e.*,
           coalesce(lo.root_span_id, o.origin_span_id) AS root_span_id,
           CASE WHEN lo.root_span_id IS NOT NULL THEN 'critical_path'
                WHEN o.origin_span_id IS NOT NULL THEN 'error_origin'
                WHEN e.anchor_span_id IS NULL THEN 'no_trace' END AS reason,
           coalesce(lo.path, o.origin_path) AS path_ids,
           coalesce(lo.via_timeout, false) AS via_timeout,
           o.origin_span_id, o.callee_span_id,
           -- the root cause's trace: the record's own, or a consumer's trace across a span link
           CASE WHEN lo.root_span_id IS NULL THEN coalesce(o.origin_trace_id, e.trace_id) ELSE e.trace_id END
               AS root_trace_id
    FROM error_records AS e
    LEFT JOIN error_origin AS o ON o.trace_id = e.trace_id AND o.anchor_span_id = e.anchor_span_id
    LEFT JOIN latency_origin AS lo ON lo.trace_id = e.trace_id AND lo.anchor_span_id = e.anchor_span_id
),
span_names AS (
    SELECT trace_id, span_id, any_value(service || ': ' || name) AS label FROM spans GROUP BY trace_id, span_id
),
paths AS (
    SELECT p.trace_id, p.path_ids, list(n.label ORDER BY p.i) AS path
    FROM (
        SELECT DISTINCT trace_id, root_trace_id, path_ids, unnest(path_ids) AS span_id,
               generate_subscripts(path_ids, 1) AS i
        FROM resolved WHERE path_ids IS NOT NULL
    ) AS p
    JOIN span_names AS n ON n.span_id = p.span_id AND n.trace_id IN (p.trace_id, p.root_trace_id)
    GROUP BY p.trace_id, p.path_ids
),
query_ev AS (
    SELECT ql.trace_id, ql.span_id,
           list('slow query ' || q.source_file || ':' || q.source_line || ': '
                || printf('%.1f ms', q.duration_ms)
                || coalesce(', lock wait ' || printf('%.1f ms', q.lock_ms), '')
                || coalesce(', error ' || nullif(q.attributes['Errno'], '0'), '')
                || ' — ' || left(regexp_replace(q.statement, '[ \t\r\n]+', ' ', 'g'), 200)
                ORDER BY q.ts, q.source_file, q.source_line) AS items,
           list(DISTINCT 'likely blocker (running across the lock wait) ' || lb.blocker_file || ':'
                || lb.blocker_line || ': ' || printf('%.0f ms', lb.blocker_ms)
                || coalesce(', ' || lb.blocker_user, '') || coalesce('@' || lb.blocker_host, '')
                || ' — ' || left(regexp_replace(lb.blocker_statement, '[ \t\r\n]+', ' ', 'g'), 160))
               FILTER (WHERE lb.blocker_file IS NOT NULL) AS blocker_items,
           max(q.lock_ms) AS lock_ms,
           max(q.duration_ms) AS query_ms
    FROM query_links AS ql
    JOIN stg_slow_queries AS q ON q.source_file = ql.source_file AND q.source_line = ql.source_line
    LEFT JOIN lock_blockers AS lb ON lb.source_file = q.source_file AND lb.source_line = q.source_line
    GROUP BY ql.trace_id, ql.span_id
),
span_ev AS (
    SELECT trace_id, span_id,
           list_concat(
               CASE WHEN status = 'ERROR' THEN ['span status ERROR' || coalesce(': ' || status_message, '')]
                    ELSE [] END,
               list_transform(list_filter(events, lambda ev: ev.name = 'exception'),
                   lambda ev: 'exception ' || coalesce(ev.attributes['exception.type'], '?')
                              || coalesce(': ' || ev.attributes['exception.message'], '')),
               CASE WHEN db_statement IS NOT NULL THEN ['db.statement: ' || left(db_statement, 200)] ELSE [] END
           ) AS items
    FROM spans
),
log_ev AS (
    -- error and warning lines of the root-cause span's service in its trace
    SELECT r.source_file, r.source_line,
           list('log ' || l.source_file || ':' || l.source_line || ' ' || l.level || ' ' || first_line(l.message)
                ORDER BY l.ts, l.source_file, l.source_line) AS items
    FROM resolved AS r
    JOIN spans AS rs ON rs.trace_id = r.root_trace_id AND rs.span_id = r.root_span_id
    JOIN log_links AS ll ON ll.trace_id = r.root_trace_id
    JOIN spans AS ls ON ls.trace_id = ll.trace_id AND ls.span_id = ll.span_id AND ls.service = rs.service
    JOIN stg_logs AS l ON l.source_file = ll.source_file AND l.source_line = ll.source_line
    WHERE l.level IN ('ERROR', 'FATAL', 'WARN')
      AND NOT (l.source_file = r.source_file AND l.source_line = r.source_line)
    GROUP BY r.source_file, r.source_line
),
timeout_ev AS (
    SELECT r.source_file, r.source_line,
           ['gave up waiting: ' || os.service || ': ' || os.name || coalesce(' — ' || os.status_message, '')
            || '; callee ' || cs.service || ': ' || cs.name || ' went on without error for '
            || printf('%.1f ms', cs.duration_ms)] AS items
    FROM resolved AS r
    JOIN spans AS os ON os.trace_id = r.trace_id AND os.span_id = r.origin_span_id
    JOIN spans AS cs ON cs.trace_id = r.trace_id AND cs.span_id = r.callee_span_id
    WHERE r.via_timeout
),
span_links AS (
    SELECT trace_id, span_id, is_root, unnest(links) AS lk FROM spans WHERE len(links) > 0
),
async_ev AS (
    SELECT r.source_file, r.source_line,
           min(sl.lk.trace_id) AS linked_trace_id,
           list(DISTINCT 'triggered by ' || coalesce(ps.service || ': ' || ps.name, 'span ' || sl.lk.span_id)
                || ' in trace ' || sl.lk.trace_id || ' (span link)') AS items
    FROM resolved AS r
    JOIN span_links AS sl ON sl.trace_id = r.trace_id
                         AND (sl.is_root OR sl.span_id = r.anchor_span_id
                              OR list_contains(coalesce(r.path_ids, []), sl.span_id))
    LEFT JOIN spans AS ps ON ps.trace_id = sl.lk.trace_id AND ps.span_id = sl.lk.span_id
    WHERE sl.lk.trace_id IS NOT NULL AND sl.lk.trace_id <> r.trace_id
    GROUP BY r.source_file, r.source_line
),
candidate_services AS (
    -- the distinct services of the candidates, best first, at most three
    SELECT source_file, source_line, list(service ORDER BY best_rank)[1:3] AS services
    FROM (SELECT source_file, source_line, service, min(rank) AS best_rank
          FROM no_trace_candidates GROUP BY ALL)
    GROUP BY ALL
),
no_trace AS (
    SELECT c.source_file, c.source_line,
           any_value(c.service) FILTER (WHERE c.rank = 1) AS service,
           any_value(c.name) FILTER (WHERE c.rank = 1) AS name,
           any_value(coalesce(c.duration_ms, NULL)) FILTER (WHERE c.rank = 1) AS duration_ms,
           any_value(c.same_trace AND c.kind <> 'self') FILTER (WHERE c.rank = 1) AS same_trace,
           any_value(c.lock_ms) FILTER (WHERE c.rank = 1) AS lock_ms,
           list('candidate ' || c.rank || ': ' || c.service || ' ' || c.kind || ' ' || c.c_file || ':' || c.c_line
                || ' ' || c.name
                || CASE WHEN c.lock_ms IS NOT NULL THEN ', lock wait ' || printf('%.1f ms', c.lock_ms) ELSE '' END
                || CASE WHEN c.kind = 'self' THEN ' (the record itself)'
                        WHEN c.kind = 'named' THEN ''
                        WHEN c.same_trace THEN ' (same trace ID)' ELSE ' (time window)' END
                ORDER BY c.rank) FILTER (WHERE c.rank <= 3) AS items
    FROM no_trace_candidates AS c
    GROUP BY c.source_file, c.source_line
)
SELECT r.ts, r.service, r.host, r.level, first_line(r.message) AS message, r.source_file, r.source_line,
       r.is_upstream_symptom, r.trace_id, r.anchor_span_id, r.anchor_method,
       r.root_span_id,
       CASE WHEN r.root_span_id IS NOT NULL THEN r.root_trace_id END AS root_trace_id,
       coalesce(rs.service, nt.service) AS root_service,
       coalesce(rs.name, nt.name) AS root_name,
       coalesce(rs.duration_ms, nt.duration_ms) AS root_duration_ms,
       rs.self_ms AS root_self_ms,
       rs.status AS root_status,
       r.reason,
       coalesce(p.path, CAST([] AS VARCHAR[])) AS path,
       list_concat(coalesce(te.items, []), coalesce(qe.items, []), coalesce(qe.blocker_items, []),
                   coalesce(se.items, []), coalesce(le.items, []), coalesce(ae.items, []),
                   coalesce(nt.items, [])) AS evidence,
       ae.linked_trace_id,
       coalesce(qe.lock_ms, nt.lock_ms) AS root_lock_ms,
       cs.services AS candidate_services,  -- no_trace: the three best candidates' services, best first
       qe.query_ms AS root_query_ms,
       CAST(round(CASE r.reason
                 WHEN 'error_origin' THEN r.anchor_confidence
                 WHEN 'critical_path' THEN r.anchor_confidence * 0.8
                 ELSE CASE WHEN nt.same_trace THEN 0.5 ELSE 0.3 END
             END, 2) AS DOUBLE) AS confidence
FROM resolved AS r
LEFT JOIN spans AS rs ON rs.trace_id = r.root_trace_id AND rs.span_id = r.root_span_id
LEFT JOIN paths AS p ON p.trace_id = r.trace_id AND p.path_ids = r.path_ids
LEFT JOIN query_ev AS qe ON qe.trace_id = r.root_trace_id AND qe.span_id = r.root_span_id
LEFT JOIN span_ev AS se ON se.trace_id = r.root_trace_id AND se.span_id = r.root_span_id
LEFT JOIN log_ev AS le ON le.source_file = r.source_file AND le.source_line = r.source_line
LEFT JOIN timeout_ev AS te ON te.source_file = r.source_file AND te.source_line = r.source_line
LEFT JOIN no_trace AS nt ON nt.source_file = r.source_file AND nt.source_line = r.source_line
LEFT JOIN candidate_services AS cs ON cs.source_file = r.source_file AND cs.source_line = r.source_line
LEFT JOIN async_ev AS ae ON ae.source_file = r.source_file AND ae.source_line = r.source_line
