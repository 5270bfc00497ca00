-- Error log records (ERROR/FATAL) without exactly one root_causes row (must return no rows).
SELECT l.source_file, l.source_line, count(r.source_line) AS n
FROM logs AS l
LEFT JOIN root_causes AS r ON r.source_file = l.source_file AND r.source_line = l.source_line
WHERE l.level IN ('ERROR', 'FATAL')
GROUP BY l.source_file, l.source_line
HAVING count(r.source_line) <> 1
