-- Error lines answered, per fault kind of the line's true trace (view truth_records): an error line is
-- answered when root_causes names a root-cause span, or (no spans) a root service. NULL kind = all kinds.
SELECT coalesce(t.fault_kind, 'none') AS kind,
       count(*) AS error_lines,
       count(*) FILTER (WHERE r.root_span_id IS NOT NULL OR r.root_service IS NOT NULL) AS answered
FROM root_causes AS r
LEFT JOIN truth_records AS t ON t.source_file = r.source_file AND t.source_line = r.source_line
GROUP BY GROUPING SETS ((coalesce(t.fault_kind, 'none')), ())
ORDER BY kind NULLS LAST
