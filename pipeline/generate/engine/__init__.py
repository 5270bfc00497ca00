"""The scenario engine behind ``tracejoin generate --traces N``: a multi-service system with selectable
fault kinds, written streamed in a mix of log, slow-log and span-export formats, with its ground truth.

``generate_scenario(out_dir, ScenarioParams(...))`` is the one entry point (see ``run``). The seed-17
incident day of ``sample_logs/`` is the other generator (``pipeline.generate.generate``), kept unchanged.
"""

from __future__ import annotations

from pipeline.generate.engine.params import ALL_NAMES, CONDITIONS, FAULT_KINDS, ScenarioParams, parse_faults
from pipeline.generate.engine.run import GROUND_TRUTH, generate_scenario
from pipeline.generate.engine.truth import RECORDS

__all__ = [
    "ALL_NAMES",
    "CONDITIONS",
    "FAULT_KINDS",
    "GROUND_TRUTH",
    "RECORDS",
    "ScenarioParams",
    "generate_scenario",
    "parse_faults",
]
