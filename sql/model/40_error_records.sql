-- error_records: one row per error log record — level ERROR/FATAL, or a message matching one of the
-- symptom patterns ($symptoms, case-insensitive) — with its anchor span (DESIGN §6 step 1): the span
-- log_links placed it on (its own span, else the innermost span of its service, else the trace root).
-- anchor_span_id is NULL when the record's trace has no spans (sampled out) or it carries no trace ID.
WITH marked AS (
    SELECT *, len(list_filter($symptoms, lambda p: contains(lower(message), lower(p)))) > 0 AS is_upstream_symptom
    FROM stg_logs
)
SELECT l.ts, l.service, l.host, l.level, l.message, l.source_file, l.source_line, l.is_upstream_symptom,
       coalesce(ll.trace_id, l.trace_id) AS trace_id,
       ll.span_id AS anchor_span_id,
       ll.method AS anchor_method,
       ll.confidence AS anchor_confidence
FROM marked AS l
LEFT JOIN log_links AS ll ON ll.source_file = l.source_file AND ll.source_line = l.source_line
WHERE l.level IN ('ERROR', 'FATAL') OR l.is_upstream_symptom
