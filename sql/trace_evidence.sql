-- trace_evidence: the log records and slow queries placed on the spans of one trace ($trace_id), one row
-- per item, for the waterfall: kind 'log' or 'query', the span it sits on, a one-line text.
SELECT 'log' AS kind, ll.span_id, l.ts, l.level,
       l.service || ' ' || l.level || ' ' || split_part(l.message, chr(10), 1) AS text,
       l.source_file, l.source_line
FROM log_links AS ll
JOIN logs AS l ON l.source_file = ll.source_file AND l.source_line = ll.source_line
WHERE ll.trace_id = $trace_id
UNION ALL
SELECT 'query', ql.span_id, q.ts, NULL,
       'slow query ' || printf('%.1f ms', q.duration_ms)
       || coalesce(', lock wait ' || printf('%.1f ms', q.lock_ms), '') || ': '
       || left(regexp_replace(q.statement, '[ \t\r\n]+', ' ', 'g'), 90),
       q.source_file, q.source_line
FROM query_links AS ql
JOIN slow_queries AS q ON q.source_file = ql.source_file AND q.source_line = ql.source_line
WHERE ql.trace_id = $trace_id
ORDER BY ts, kind, source_file, source_line
