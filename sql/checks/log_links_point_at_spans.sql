-- log_links rows whose span does not exist (must return no rows).
SELECT l.* FROM log_links AS l
ANTI JOIN spans AS s ON s.trace_id = l.trace_id AND s.span_id = l.span_id
