"""The tracejoin command line: thin commands over the pipeline stages, one error boundary.

Heavy libraries (duckdb, polars) are imported inside the commands so ``tracejoin --help`` starts at once.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from pipeline.errors import TracejoinError

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_OUT = "tracejoin-out"


class _Group(click.Group):
    """Turns every TracejoinError into one line 'Error: <problem> — <fix>' and exit code 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except TracejoinError as exc:
            if ctx.params.get("debug"):
                raise
            click.echo(f"Error: {exc.one_line()}", err=True)
            sys.exit(1)


def out_option(f: F) -> F:
    return click.option(
        "--out",
        "out",
        type=click.Path(file_okay=False, path_type=Path),
        default=DEFAULT_OUT,
        show_default=True,
        help="Output directory (Parquet tables and catalog.duckdb).",
    )(f)


def filter_options(f: F) -> F:
    f = click.option("--service", default=None, help="Only records of this service.")(f)
    f = click.option(
        "--until", default=None, help="Only records before this time (UTC unless it has an offset)."
    )(f)
    f = click.option(
        "--since", default=None, help="Only records from this time on (UTC unless it has an offset)."
    )(f)
    return f


def input_options(f: F) -> F:
    f = click.option("--timezone", default=None, help="Time zone of zone-less timestamps (default UTC).")(f)
    f = click.option(
        "--format",
        "input_format",
        default=None,
        help="Parse every input as this format instead of detecting it (see 'tracejoin formats').",
    )(f)
    f = click.option(
        "--config",
        "config_path",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="TOML config with [[source]] entries (path, format, service, timezone).",
    )(f)
    f = click.argument("inputs", nargs=-1)(f)
    return f


@click.group(cls=_Group)
@click.option("--debug", is_flag=True, help="Show the traceback of an error instead of one line.")
@click.version_option(package_name="tracejoin")
def main(debug: bool) -> None:
    """tracejoin: link service logs, slow-query logs and trace spans; find the span behind every error.

    \b
    Example:
      tracejoin run sample_logs/ --out tracejoin-out
      tracejoin investigate --at "2026-11-17 14:32" --service order-service
    """


def _discover(
    inputs: tuple[str, ...], config_path: Path | None, input_format: str | None, timezone: str | None
) -> tuple[list[Any], Any]:
    from pipeline import config as config_mod
    from pipeline.discover import discover

    cfg = config_mod.load(config_path) if config_path else config_mod.Config()
    if timezone:
        from dataclasses import replace

        cfg = replace(cfg, timezone=config_mod.check_timezone(timezone, "--timezone"))
    return discover(list(inputs), cfg, input_format), cfg


def _ingest(
    inputs: tuple[str, ...],
    config_path: Path | None,
    input_format: str | None,
    timezone: str | None,
    out: Path,
) -> Any:
    from pipeline.discover import parser_table
    from pipeline.ingest import ingest
    from pipeline.summary import ingest_text

    files, cfg = _discover(inputs, config_path, input_format, timezone)
    summary = ingest(files, out, parser_table(cfg))
    click.echo(ingest_text(summary))
    return cfg


@main.command()
@input_options
@out_option
def run(
    inputs: tuple[str, ...],
    config_path: Path | None,
    input_format: str | None,
    timezone: str | None,
    out: Path,
) -> None:
    """Ingest INPUTS, correlate, write the output tables, print a summary (the nightly job).

    INPUTS are files, directories (searched recursively) or globs; .gz/.bz2/.zst are read transparently.

    \b
    Example:
      tracejoin run sample_logs/ --out tracejoin-out
    """
    from pipeline.correlate import CorrelateOptions, correlate
    from pipeline.summary import correlate_text

    cfg = _ingest(inputs, config_path, input_format, timezone, out)
    summary = correlate(out, CorrelateOptions(symptoms=cfg.symptom_patterns))
    click.echo(correlate_text(summary))


@main.command()
@input_options
@out_option
def ingest(
    inputs: tuple[str, ...],
    config_path: Path | None,
    input_format: str | None,
    timezone: str | None,
    out: Path,
) -> None:
    """Parse INPUTS into staged Parquet (<out>/_staging) and print the per-file line accounting.

    \b
    Example:
      tracejoin ingest sample_logs/order-service/ --out tracejoin-out
    """
    _ingest(inputs, config_path, input_format, timezone, out)


@main.command()
@out_option
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="TOML config (for symptom_patterns).",
)
def correlate(out: Path, config_path: Path | None) -> None:
    """Link the staged records (logs, slow queries, spans) and write the output tables.

    \b
    Example:
      tracejoin correlate --out tracejoin-out
    """
    from pipeline import config as config_mod
    from pipeline.correlate import CorrelateOptions
    from pipeline.correlate import correlate as do_correlate
    from pipeline.errors import OutputError
    from pipeline.paths import STAGING
    from pipeline.summary import correlate_text

    if not (out / STAGING).is_dir():
        raise OutputError(f"nothing staged in {out}", "run 'tracejoin ingest <inputs> --out DIR' first")
    cfg = config_mod.load(config_path) if config_path else config_mod.Config()
    click.echo(correlate_text(do_correlate(out, CorrelateOptions(symptoms=cfg.symptom_patterns))))


def _report_names() -> list[str]:
    from pipeline import sqlfiles

    return sqlfiles.report_names()


@main.command()
@click.argument("name")
@out_option
@filter_options
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True
)
def report(name: str, out: Path, since: str | None, until: str | None, service: str | None, fmt: str) -> None:
    """Print the report NAME: root-causes, upstream-errors, slow-queries, link-coverage or clock-skew.

    \b
    Example:
      tracejoin report root-causes --since "2026-11-17 14:00" --format json
    """

    from pipeline.catalog import open_catalog, query
    from pipeline.errors import ConfigError, did_you_mean
    from pipeline.investigate import parse_time
    from pipeline.render import render

    names = _report_names()
    if name not in names:
        raise ConfigError(
            f"unknown report {name!r}", did_you_mean(name, names, f"reports: {', '.join(names)}")
        )
    params = {
        "since": parse_time(since) if since else None,
        "until": parse_time(until) if until else None,
        "service": service,
    }
    con = open_catalog(out)
    try:
        table = query(con, "reports/" + name.replace("-", "_"), params)
    finally:
        con.close()
    click.echo(render(table, fmt))  # type: ignore[arg-type]


@main.command()
@click.argument("trace_id")
@out_option
@click.option("--no-evidence", is_flag=True, help="Spans only, without log lines and slow queries.")
def trace(trace_id: str, out: Path, no_evidence: bool) -> None:
    """Draw the waterfall of TRACE_ID with its root cause, log lines and slow queries.

    \b
    Example:
      tracejoin trace 4bf92f3577b34da6a3ce929d0e0e4736
    """
    from pipeline import waterfall

    click.echo(waterfall.render(waterfall.load(out, trace_id), show_evidence=not no_evidence))


@main.command()
@click.option(
    "--at", "at", required=True, help="The time in question, e.g. '2026-11-17 14:32' (UTC by default)."
)
@click.option("--window", default="5m", show_default=True, help="Width of the window centred on --at.")
@click.option("--service", default=None, help="Only error records of this service.")
@click.option("--timezone", default="UTC", show_default=True, help="Time zone of a zone-less --at.")
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True
)
@out_option
def investigate(at: str, window: str, service: str | None, timezone: str, fmt: str, out: Path) -> None:
    """What failed around a time? Error records in the window, each with its root cause.

    \b
    Example:
      tracejoin investigate --at "2026-11-17 14:32" --service order-service
    """
    from pipeline import investigate as inv
    from pipeline.render import cell, render

    result = inv.investigate(out, at, window, service, timezone)
    if fmt != "table":
        click.echo(render(result.errors, fmt))  # type: ignore[arg-type]
        return
    who = f"of {service} " if service else ""
    click.echo(
        f"error records {who}from {cell(result.since)} to {cell(result.until)} UTC: {result.errors.num_rows}"
    )
    if result.errors.num_rows == 0:
        return
    click.echo("\nroot causes, most errors first:\n")
    click.echo(
        render(
            result.causes.select(
                [
                    "root_service",
                    "root_name",
                    "reason",
                    "errors",
                    "upstream_errors",
                    "max_lock_ms",
                    "confidence",
                    "example_trace",
                    "example_evidence",
                ]
            ),
            "table",
        )
    )
    click.echo("\nerror records:\n")
    click.echo(
        render(
            result.errors.select(
                [
                    "ts",
                    "service",
                    "message",
                    "root_service",
                    "root_name",
                    "reason",
                    "confidence",
                    "lock_ms",
                    "trace_id",
                ]
            ),
            "table",
        )
    )


@main.command()
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also list the user-defined [[format]] entries of this config.",
)
def formats(config_path: Path | None) -> None:
    """List the input formats tracejoin can parse, with an example line each.

    \b
    Example:
      tracejoin formats --config tracejoin.toml
    """
    from parsers.registry import ALIASES
    from pipeline import config as config_mod
    from pipeline.discover import parser_table

    cfg = config_mod.load(config_path) if config_path else None
    table = parser_table(cfg)
    width = max(len(name) for name in table) + 2
    for name, parser in table.items():
        aliases = sorted(a for a, target in ALIASES.items() if target == name)
        also = f" (also: {', '.join(aliases)})" if aliases else ""
        click.echo(f"{name:<{width}}{parser.kind:<14}{parser.description}{also}")
        click.echo(f"{'':<{width}}example: {parser.example}")


@main.command()
@click.argument("expression")
@filter_options
@click.option("--limit", default=50, show_default=True, type=click.IntRange(min=1), help="At most this many.")
@out_option
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True
)
def search(
    expression: str,
    since: str | None,
    until: str | None,
    service: str | None,
    limit: int,
    out: Path,
    fmt: str,
) -> None:
    """Find spans by attributes and columns: key OP value joined by and/or, OP one of
    = != < <= > >= ~ (contains). Keys and values are bound parameters, never SQL.

    \b
    Example:
      tracejoin search 'item.id = "sku-789" and reservation.success = false'
      tracejoin search 'service = inventory-service and duration_ms > 150' --since "2026-11-17 14:30"
    """
    from pipeline.catalog import open_catalog
    from pipeline.investigate import parse_time
    from pipeline.render import render
    from pipeline.search import search as do_search

    start, end = (parse_time(t) if t else None for t in (since, until))
    con = open_catalog(out)
    try:
        table = do_search(con, expression, start, end, service, limit)
    finally:
        con.close()
    click.echo(render(table, fmt))  # type: ignore[arg-type]


@main.command("sql")
@click.argument("statement")
@out_option
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True
)
def sql_command(statement: str, out: Path, fmt: str) -> None:
    """Run one read-only SQL query over the output tables (logs, slow_queries, spans, log_links,
    query_links, root_causes, rejects, log_link_gaps) and print the result.

    \b
    Example:
      tracejoin sql "SELECT service, count(*) FROM logs WHERE level = 'ERROR' GROUP BY ALL"
    """
    from pipeline.catalog import ad_hoc, open_catalog
    from pipeline.render import render

    con = open_catalog(out)
    try:
        click.echo(render(ad_hoc(con, statement), fmt))  # type: ignore[arg-type]
    finally:
        con.close()


@main.command()
@click.option(
    "--truth",
    "truth_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The ground_truth.json written by 'tracejoin generate'.",
)
@out_option
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def evaluate(truth_path: Path, out: Path, fmt: str) -> None:
    """Measure the run in --out against a ground truth: root-cause accuracy per fault kind, log and query
    link precision and recall, share of error lines answered; also written to <out>/evaluation.json.

    \b
    Example:
      tracejoin evaluate --truth sample_logs/ground_truth.json --out tracejoin-out
    """
    import json

    import pyarrow as pa

    from pipeline.evaluate import evaluate as do_evaluate
    from pipeline.render import render

    result = do_evaluate(out, truth_path)
    (out / "evaluation.json").write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    if fmt == "json":
        click.echo(json.dumps(result, indent=2, sort_keys=True))
        return
    kinds = [*result["kinds"].items(), ("all", result["overall"])]
    cases = [
        {"fault kind": kind, **{k: v for k, v in figures.items() if not isinstance(v, dict)}}
        for kind, figures in kinds
        if "cases" in figures
    ]
    click.echo(render(pa.Table.from_pylist(cases), "table"))
    links = [
        {"fault kind": kind, "record": table.removesuffix("_links"), "form": form, **counts}
        for kind, figures in kinds
        for table in ("log_links", "query_links")
        for form, counts in figures.get(table, {}).items()
    ]
    if links:
        click.echo("\nlinks per record (right = placed on the true span):")
        click.echo(render(pa.Table.from_pylist(links), "table"))


@main.command()
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--seed", default=17, show_default=True, help="Random seed: the same seed writes the same bytes."
)
@click.option(
    "--traces",
    type=int,
    default=None,
    help="Run the scenario engine with this many user requests (e.g. --traces 50000); "
    "without it, the seed-17 incident day of sample_logs/ is written.",
)
@click.option(
    "--services",
    type=int,
    default=8,
    show_default=True,
    help="Services in the system (e.g. --services 12 adds fan-out branches); the faults need at least 4-8.",
)
@click.option(
    "--faults",
    "faults_text",
    default="all",
    show_default=True,
    help="Comma-separated fault kinds and conditions (e.g. --faults lock_wait,sampling), or 'all': "
    "lock_wait, slow_query, pool_exhaustion, downstream_exception, retry_timeout, circuit_breaker, fanout, "
    "async_error; sampling, uninstrumented, clock_skew, mixed_ids.",
)
@click.option(
    "--hours",
    type=float,
    default=1.0,
    show_default=True,
    help="Length of the window from 14:00 UTC (e.g. 0.5).",
)
@click.option(
    "--sample-rate",
    type=float,
    default=0.9,
    show_default=True,
    help="Head sampling: share of traces exported (e.g. 0.8); needs the 'sampling' condition.",
)
@click.option(
    "--skew-ms",
    type=float,
    default=250.0,
    show_default=True,
    help="Clock error of one inventory-service host's logs (e.g. -120); needs 'clock_skew'.",
)
@click.pass_context
def generate(
    ctx: click.Context,
    out_dir: Path,
    seed: int,
    traces: int | None,
    services: int,
    faults_text: str,
    hours: float,
    sample_rate: float,
    skew_ms: float,
) -> None:
    """Write generated logs, slow logs and span exports with their ground truth to OUT_DIR.

    Without --traces: the realistic incident day of sample_logs/ (ground_truth.json). With --traces: the
    scenario engine, a multi-service system with the chosen faults, streamed (memory stays flat), plus
    ground_truth.json and ground_truth_records.parquet (the true trace and span of every record).

    \b
    Example:
      tracejoin generate /tmp/incident --seed 17
      tracejoin generate /tmp/day --seed 3 --traces 50000 --faults all --hours 1
      tracejoin generate /tmp/locks --seed 5 --traces 2000 --faults lock_wait,sampling --services 4
    """
    from click.core import ParameterSource

    from pipeline.errors import ConfigError

    if traces is None:
        scenario_only = ("services", "faults_text", "hours", "sample_rate", "skew_ms")
        given = [name for name in scenario_only if ctx.get_parameter_source(name) != ParameterSource.DEFAULT]
        if given:
            option = "--" + given[0].replace("_text", "").replace("_", "-")
            raise ConfigError(f"{option} needs --traces", "add --traces N to run the scenario engine")
        from pipeline.generate import generate as do_generate

        summary = do_generate(out_dir, seed)
    else:
        from pipeline.generate.engine import ScenarioParams, generate_scenario, parse_faults

        params = ScenarioParams(
            seed=seed,
            traces=traces,
            services=services,
            faults=parse_faults(faults_text),
            hours=hours,
            sample_rate=sample_rate,
            skew_ms=skew_ms,
        )
        summary = generate_scenario(out_dir, params)
    for key, value in summary.items():
        click.echo(f"{key}: {value}")


if __name__ == "__main__":
    main()
