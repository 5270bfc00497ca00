-- query_links rows whose span does not exist (must return no rows).
SELECT q.* FROM query_links AS q
ANTI JOIN spans AS s ON s.trace_id = q.trace_id AND s.span_id = q.span_id
