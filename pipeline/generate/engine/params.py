"""The scenario engine's options: fault kinds, conditions, and which services each needs.

Names here are the contract with ``tracejoin evaluate`` and the tests: ground truth spells them exactly so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from pipeline.errors import ConfigError, did_you_mean

FaultKind = Literal[
    "lock_wait",
    "slow_query",
    "pool_exhaustion",
    "downstream_exception",
    "retry_timeout",
    "circuit_breaker",
    "fanout",
    "async_error",
]
FAULT_KINDS: tuple[FaultKind, ...] = get_args(FaultKind)
CONDITIONS: tuple[str, ...] = ("sampling", "uninstrumented", "clock_skew", "mixed_ids")
ALL_NAMES: tuple[str, ...] = (*FAULT_KINDS, *CONDITIONS)

# The core services in the order they join as --services grows; a fault needs the services named here.
CORE_SERVICES: tuple[str, ...] = (
    "api-gateway",
    "order-service",
    "user-service",
    "inventory-service",
    "payment-service",
    "catalog-service",
    "fulfillment-worker",
    "notification-service",
)
EXTRA_SERVICES: tuple[str, ...] = (
    "recommendation-service",
    "review-service",
    "pricing-service",
    "search-shard-1",
    "search-shard-2",
    "search-shard-3",
    "search-shard-4",
    "shipping-service",
)
BASE_SERVICES = 4  # gateway, order, user, inventory: the checkout every scenario runs
NEEDS: dict[str, tuple[str, ...]] = {
    "lock_wait": ("inventory-service",),
    "slow_query": ("user-service",),
    "pool_exhaustion": ("payment-service",),
    "downstream_exception": ("payment-service",),
    "retry_timeout": ("payment-service",),
    "circuit_breaker": ("payment-service",),
    "fanout": ("catalog-service",),
    "async_error": ("fulfillment-worker",),
    "sampling": (),
    "uninstrumented": ("notification-service",),
    "clock_skew": ("inventory-service",),
    "mixed_ids": ("payment-service",),
}
MAX_SERVICES = len(CORE_SERVICES) + len(EXTRA_SERVICES)
START_ISO = "2026-11-17T14:00:00Z"


@dataclass(frozen=True, slots=True)
class ScenarioParams:
    """Everything that shapes a generated scenario; the same params and seed give the same bytes."""

    seed: int
    traces: int
    services: int = 8
    faults: tuple[str, ...] = ALL_NAMES
    hours: float = 1.0
    sample_rate: float = 0.9
    skew_ms: float = 250.0

    def has(self, name: str) -> bool:
        """Whether a fault kind or condition is switched on."""
        return name in self.faults

    @property
    def fault_kinds(self) -> tuple[FaultKind, ...]:
        """The selected fault kinds, in the canonical order."""
        return tuple(k for k in FAULT_KINDS if k in self.faults)

    def as_dict(self) -> dict[str, object]:
        """The params as ground truth records them."""
        return {
            "traces": self.traces,
            "services": self.services,
            "faults": list(self.faults),
            "hours": self.hours,
            "sample_rate": self.sample_rate,
            "skew_ms": self.skew_ms,
        }


def parse_faults(text: str) -> tuple[str, ...]:
    """``all`` or a comma-separated list of fault kinds and conditions -> canonical order, no duplicates."""
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise ConfigError("--faults is empty", f"give 'all' or some of: {', '.join(ALL_NAMES)}")
    if "all" in names:
        return ALL_NAMES
    for name in names:
        if name not in ALL_NAMES:
            hint = did_you_mean(name, ALL_NAMES, "")
            fix = f"{hint} " if hint else ""
            raise ConfigError(f"unknown fault {name!r}", f"{fix}valid: all, {', '.join(ALL_NAMES)}")
    return tuple(n for n in ALL_NAMES if n in names)


def min_services(faults: tuple[str, ...]) -> int:
    """The smallest --services that has every service the selected faults need."""
    needed = [CORE_SERVICES.index(s) + 1 for name in faults for s in NEEDS[name]]
    return max([BASE_SERVICES, *needed])


def service_names(count: int) -> tuple[str, ...]:
    """The first ``count`` services: the core ones, then the extra fan-out branches."""
    return (*CORE_SERVICES, *EXTRA_SERVICES)[:count]


def validate(params: ScenarioParams) -> None:
    """Reject options that cannot make a scenario, with the fix in the message."""
    need = min_services(params.faults)
    if params.services < need:
        raise ConfigError(
            f"--services {params.services} is too few for the chosen faults (they need {need})",
            f"use --services {need} or more, or fewer --faults",
        )
    if params.services > MAX_SERVICES:
        raise ConfigError(f"--services {params.services} is too many", f"use at most {MAX_SERVICES}")
    if params.traces < 1:
        raise ConfigError(f"--traces {params.traces} must be positive", "give --traces 1 or more")
    if not 0 < params.hours <= 24:
        raise ConfigError(f"--hours {params.hours} is out of range", "give a value above 0, at most 24")
    if not 0 < params.sample_rate <= 1:
        raise ConfigError(
            f"--sample-rate {params.sample_rate} is out of range", "give a share above 0, at most 1"
        )
    if abs(params.skew_ms) > 60_000:
        raise ConfigError(f"--skew-ms {params.skew_ms} is too large", "give at most 60000 ms either way")
