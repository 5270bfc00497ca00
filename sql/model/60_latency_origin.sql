-- latency_origin: one row per anchor whose cause is latency, not an error below it (DESIGN §6 step 3):
-- anchors with no error span at or below them, and timed-out origins whose callee went on without error.
-- From the start span, walk the critical path (repeatedly the child that ends last, as Jaeger's critical
-- path and Uber's CRISP do) and take the span on it with the largest self time (ties: the deeper one).
-- path lists span IDs from the anchor down to that span.
WITH RECURSIVE starts AS (
    SELECT DISTINCT e.trace_id, e.anchor_span_id, e.anchor_span_id AS start_span_id,
           CAST([] AS VARCHAR[]) AS prefix, false AS via_timeout
    FROM error_records AS e
    ANTI JOIN error_origin AS o ON o.trace_id = e.trace_id AND o.anchor_span_id = e.anchor_span_id
    WHERE e.anchor_span_id IS NOT NULL
    UNION ALL
    SELECT trace_id, anchor_span_id, callee_span_id, origin_path, true
    FROM error_origin
    WHERE callee_span_id IS NOT NULL
),
last_child AS (
    SELECT trace_id, parent_span_id, span_id
    FROM spans
    WHERE parent_span_id IS NOT NULL
    QUALIFY row_number() OVER (PARTITION BY trace_id, parent_span_id ORDER BY end_ts DESC, span_id) = 1
),
cp(trace_id, anchor_span_id, span_id, path) AS (
    SELECT trace_id, anchor_span_id, start_span_id, list_append(prefix, start_span_id) FROM starts
    UNION ALL
    SELECT cp.trace_id, cp.anchor_span_id, lc.span_id, list_append(cp.path, lc.span_id)
    FROM cp
    JOIN last_child AS lc ON lc.trace_id = cp.trace_id AND lc.parent_span_id = cp.span_id
    WHERE len(cp.path) < 256 AND NOT list_contains(cp.path, lc.span_id)
)
SELECT cp.trace_id, cp.anchor_span_id, cp.span_id AS root_span_id, cp.path, s.via_timeout
FROM cp
JOIN spans AS sp ON sp.trace_id = cp.trace_id AND sp.span_id = cp.span_id
JOIN starts AS s ON s.trace_id = cp.trace_id AND s.anchor_span_id = cp.anchor_span_id
QUALIFY row_number() OVER (PARTITION BY cp.trace_id, cp.anchor_span_id
                           ORDER BY sp.self_ms DESC, len(cp.path) DESC, cp.span_id) = 1
