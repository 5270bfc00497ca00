"""JSON lines: the nested ``attributes`` object's keys, found and read in the same passes as the top level.

Only an object is flattened: an array or a string stays one ``attributes`` entry, even when another line's
object has a key that reads as an array index (``/attributes/0``)."""

from __future__ import annotations

from parsers import json_lines
from tests.parsers.helpers import attrs, run_parser

TS = '"timestamp":"2026-11-17T14:32:05Z","msg":"m"'


def test_only_object_attributes_are_flattened() -> None:
    lines = [
        f'{{{TS},"attributes":{{"0":"zero","k":"v"}}}}',
        f'{{{TS},"attributes":["a","b"]}}',
        f'{{{TS},"attributes":"plain"}}',
        f'{{{TS},"attributes":{{"k":{{"deep":[1,2]}}}}}}',
        f"{{{TS}}}",
    ]
    recs, rejects, _ = run_parser(json_lines, lines, "svc/app.jsonl")
    assert rejects.height == 0
    assert [attrs(r) for r in recs.iter_rows(named=True)] == [
        {"0": "zero", "k": "v"},
        {"attributes": '["a","b"]'},
        {"attributes": "plain"},
        {"k": '{"deep":[1,2]}'},
        {},
    ]


def test_keys_with_pointer_characters() -> None:
    line = f'{{{TS},"a/b":"1","c~d":"2","attributes":{{"e/f":"3","g~h":"4"}}}}'
    (rec,) = run_parser(json_lines, [line], "svc/app.jsonl")[0].to_dicts()
    assert attrs(rec) == {"a/b": "1", "c~d": "2", "e/f": "3", "g~h": "4"}
