-- error_origin: one row per distinct anchor (trace_id, anchor_span_id) that has an error span at or below it
-- (DESIGN §6 step 2). The origin is the error span with no error descendant — the deepest link of the
-- error chain; ties go to the earliest-ending span. A failed attempt that was retried is not the origin:
-- an error span with a later error sibling of the same service and name that started after it ended
-- (a retry) is superseded, and so is everything below it — the last failed attempt's cause counts.
-- Asynchronous work: below a span of the anchor's trace that produced a message, the consumer's span in
-- another trace that links to it (OTLP span link, Jaeger FOLLOWS_FROM) counts as a descendant, so the error
-- chain continues across the queue. An origin in the anchor's own trace wins over one across a link
-- (the consumer runs after the request; it explains the record only when nothing in the request does).
-- origin_trace_id is the origin's trace; origin_path lists span IDs from the anchor down.
-- callee_span_id is set when the origin gave up waiting (a timeout) while a callee below it went on
-- without error: the cause then lies in the callee (step 3 continues from there).
WITH RECURSIVE anchors AS (
    SELECT DISTINCT trace_id, anchor_span_id FROM error_records WHERE anchor_span_id IS NOT NULL
),
consumers AS (
    -- (producer trace, producer span) -> consumer span in another trace that links to it
    SELECT lk.trace_id AS from_trace, lk.span_id AS from_span, trace_id AS to_trace, span_id AS to_span
    FROM (SELECT trace_id, span_id, unnest(links) AS lk FROM spans WHERE len(links) > 0)
    WHERE lk.trace_id IS NOT NULL AND lk.trace_id <> trace_id
),
sub(trace_id, anchor_span_id, ctrace, span_id, path) AS (
    SELECT trace_id, anchor_span_id, trace_id, anchor_span_id, [anchor_span_id] FROM anchors
    UNION ALL
    SELECT s.trace_id, s.anchor_span_id, n.ctrace, n.span_id, list_append(s.path, n.span_id)
    FROM sub AS s
    JOIN (SELECT trace_id AS ptrace, parent_span_id AS parent, trace_id AS ctrace, span_id FROM spans
          UNION ALL
          SELECT from_trace, from_span, to_trace, to_span FROM consumers) AS n
      ON n.ptrace = s.ctrace AND n.parent = s.span_id
    WHERE len(s.path) < 256 AND NOT list_contains(s.path, n.span_id)
      AND (n.ctrace = s.ctrace OR s.ctrace = s.trace_id)  -- one hop across a link, not a chain of queues
),
err AS (
    SELECT DISTINCT sub.trace_id, sub.anchor_span_id, sub.ctrace, sub.span_id, sub.path, sp.end_ts, sp.is_timeout
    FROM sub
    JOIN spans AS sp ON sp.trace_id = sub.ctrace AND sp.span_id = sub.span_id
    WHERE sp.is_error
),
superseded AS (
    SELECT DISTINCT x.trace_id, x.span_id
    FROM spans AS x
    JOIN spans AS y ON y.trace_id = x.trace_id AND y.parent_span_id = x.parent_span_id
                   AND y.service IS NOT DISTINCT FROM x.service AND y.name = x.name
                   AND y.span_id <> x.span_id AND y.is_error
                   AND y.start_ts >= x.end_ts - to_milliseconds($tolerance_ms)
    WHERE x.is_error AND x.trace_id IN (SELECT ctrace FROM err)
),
leaf AS (
    SELECT a.* FROM err AS a
    WHERE NOT EXISTS (
        SELECT 1 FROM superseded AS r
        WHERE r.trace_id = a.ctrace AND r.span_id <> a.anchor_span_id AND list_contains(a.path, r.span_id)
    )
    AND NOT EXISTS (
        SELECT 1 FROM err AS b
        WHERE b.trace_id = a.trace_id AND b.anchor_span_id = a.anchor_span_id AND b.ctrace = a.ctrace
          AND b.span_id <> a.span_id AND list_contains(b.path, a.span_id)
    )
),
origin AS (
    SELECT * FROM leaf
    QUALIFY row_number() OVER (PARTITION BY trace_id, anchor_span_id
                               ORDER BY ctrace <> trace_id, end_ts, span_id) = 1
),
callee AS (
    -- the child of a timed-out origin that went on last (it is not an error: the origin is a leaf)
    SELECT o.trace_id, o.anchor_span_id, c.span_id AS callee_span_id
    FROM origin AS o
    JOIN spans AS c ON c.trace_id = o.trace_id AND c.parent_span_id = o.span_id
    WHERE o.is_timeout AND o.ctrace = o.trace_id
    QUALIFY row_number() OVER (PARTITION BY o.trace_id, o.anchor_span_id ORDER BY c.end_ts DESC, c.span_id) = 1
)
SELECT o.trace_id, o.anchor_span_id, o.span_id AS origin_span_id, o.ctrace AS origin_trace_id,
       o.path AS origin_path, o.is_timeout, c.callee_span_id
FROM origin AS o
LEFT JOIN callee AS c ON c.trace_id = o.trace_id AND c.anchor_span_id = o.anchor_span_id
