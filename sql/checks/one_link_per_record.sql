-- Records linked more than once (must return no rows): a log record or slow query sits on one span.
SELECT 'log_links' AS tbl, source_file, source_line, count(*) AS n FROM log_links GROUP BY ALL HAVING count(*) > 1
UNION ALL
SELECT 'query_links', source_file, source_line, count(*) FROM query_links GROUP BY ALL HAVING count(*) > 1
