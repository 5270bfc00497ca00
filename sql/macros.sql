-- Macros shared by the model queries. Run once per connection before sql/model/*.sql.

-- Two trace IDs name the same trace: equal, or one side has only 64 bits (16 leading zeros after
-- left-padding) and the low 64 bits agree, as Zipkin matches with STRICT_TRACE_ID=false (DESIGN §4).
-- Callers join on right(trace_id, 16) first so this stays an equality join.
CREATE OR REPLACE MACRO same_trace(a, b) AS
    a = b OR (right(a, 16) = right(b, 16)
              AND (starts_with(a, '0000000000000000') OR starts_with(b, '0000000000000000')));

-- A short human name for a statement shape: 'UPDATE inventory', 'SELECT users', 'INSERT orders'.
CREATE OR REPLACE MACRO statement_name(fp) AS
    CASE
        WHEN fp IS NULL THEN NULL
        WHEN regexp_matches(fp, '^update ') THEN 'UPDATE ' || regexp_extract(fp, '^update ([^ ]+)', 1)
        WHEN regexp_matches(fp, '^(insert|replace)') THEN
            upper(regexp_extract(fp, '^([a-z]+)', 1)) || ' ' || regexp_extract(fp, ' into ([^ (]+)', 1)
        WHEN regexp_matches(fp, '^delete ') THEN 'DELETE ' || regexp_extract(fp, ' from ([^ ]+)', 1)
        WHEN regexp_matches(fp, '^select ') AND regexp_matches(fp, ' from ') THEN
            'SELECT ' || regexp_extract(fp, ' from ([^ ,()]+)', 1)
        ELSE upper(regexp_extract(fp, '^([a-z]+)', 1))
    END;

-- First line of a (possibly multi-line) message.
CREATE OR REPLACE MACRO first_line(msg) AS split_part(msg, chr(10), 1);

-- A log time corrected by its host's clock skew (host_skew.skew_ms, NULL = none); raw times stay as written.
CREATE OR REPLACE MACRO skewed(ts, skew_ms) AS ts + to_microseconds(CAST(round(coalesce(skew_ms, 0.0) * 1000) AS BIGINT));
