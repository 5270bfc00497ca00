-- spans: one row per span (repeated exports of the same span removed), with self time and flags.
-- Grain: (trace_id, span_id, kind) — Zipkin lets a client and a server share one span ID.
-- self_ms   = duration minus the union of its children's intervals, clipped to the span.
-- is_root   = no parent, or the parent was never exported (a web client's span, a sampled-out caller).
-- is_error  = status ERROR, HTTP >= 500 or an exception event (DESIGN §6 step 2).
-- is_timeout = the failure is a gave-up-waiting one (status or exception says timeout / deadline).
WITH dedup AS (
    SELECT * EXCLUDE (rn)
    FROM (
        SELECT *,
               row_number() OVER (PARTITION BY trace_id, span_id, kind ORDER BY source_file, source_line) AS rn
        FROM stg_spans
        WHERE trace_id IS NOT NULL AND span_id IS NOT NULL
    )
    WHERE rn = 1
),
child AS (
    SELECT c.trace_id, c.parent_span_id AS span_id,
           greatest(c.start_ts, p.start_ts) AS s, least(c.end_ts, p.end_ts) AS e
    FROM dedup AS c
    JOIN dedup AS p ON p.trace_id = c.trace_id AND p.span_id = c.parent_span_id
    WHERE least(c.end_ts, p.end_ts) > greatest(c.start_ts, p.start_ts)
),
ordered AS (
    SELECT *,
           max(e) OVER (PARTITION BY trace_id, span_id ORDER BY s, e
                        ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_end
    FROM child
),
islands AS (
    SELECT *,
           sum(CASE WHEN prev_end IS NULL OR s > prev_end THEN 1 ELSE 0 END)
               OVER (PARTITION BY trace_id, span_id ORDER BY s, e ROWS UNBOUNDED PRECEDING) AS island
    FROM ordered
),
covered AS (
    SELECT trace_id, span_id, sum(date_diff('microsecond', s0, e0)) / 1000.0 AS child_ms
    FROM (SELECT trace_id, span_id, island, min(s) AS s0, max(e) AS e0 FROM islands GROUP BY ALL)
    GROUP BY ALL
),
texts AS (
    SELECT trace_id, span_id, kind,
           lower(coalesce(status_message, '') || ' ' || coalesce(array_to_string(
               list_transform(events, lambda ev: coalesce(ev.attributes['exception.type'], '') || ' '
                                                 || coalesce(ev.attributes['exception.message'], '')), ' '), '')
           ) AS failure_text
    FROM dedup
)
SELECT d.* REPLACE (greatest(d.duration_ms - coalesce(cv.child_ms, 0), 0) AS self_ms),
       (d.parent_span_id IS NULL
        OR NOT EXISTS (SELECT 1 FROM dedup AS p WHERE p.trace_id = d.trace_id AND p.span_id = d.parent_span_id))
           AS is_root,
       (d.status = 'ERROR' OR coalesce(d.http_status, 0) >= 500
        OR len(list_filter(d.events, lambda ev: ev.name = 'exception')) > 0) AS is_error,
       regexp_matches(t.failure_text, 'timed out|timeout|deadline exceeded') AS is_timeout
FROM dedup AS d
LEFT JOIN covered AS cv ON cv.trace_id = d.trace_id AND cv.span_id = d.span_id
JOIN texts AS t ON t.trace_id = d.trace_id AND t.span_id = d.span_id AND t.kind IS NOT DISTINCT FROM d.kind
