"""Multi-window error-budget burn-rate alerting (the Google SRE workbook, "Alerting on SLOs"), as
plain functions on plain values (no ORM).

The burn rate of one SLI observation is how fast it spends the error budget: the error rate it shows
over the error rate the objective allows — (100 − value) / (100 − objective) for percentages; 1 spends
the budget exactly over the SLO window, 14.4 spends a 30-day budget's 2 % in an hour. A rule fires
when the mean burn rate over its long window AND over its short window (which makes it reset quickly
once the burn stops) are both at or above its threshold. Defaults (settings.SRE_BURN_RATE_RULES):
1 h / 5 min at 14.4 and 6 h / 30 min at 6.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class BurnRule:
    long_minutes: int
    short_minutes: int
    threshold: float

    @property
    def label(self) -> str:
        return f"{_span(self.long_minutes)}/{_span(self.short_minutes)} ≥ {self.threshold:g}×"


def _span(minutes: int) -> str:
    return f"{minutes // 60} h" if minutes % 60 == 0 else f"{minutes} min"


@dataclass(frozen=True)
class Point:
    at: datetime
    value: float
    objective: float


def parse_rules(text: str) -> list[BurnRule]:
    """ "60:5:14.4,360:30:6" → rules (long minutes : short minutes : threshold). Raises ValueError."""
    rules = []
    for part in (text or "").split(","):
        if not part.strip():
            continue
        long_m, short_m, threshold = part.strip().split(":")
        rule = BurnRule(int(long_m), int(short_m), float(threshold))
        if not (0 < rule.short_minutes < rule.long_minutes and rule.threshold > 0):
            raise ValueError(f"a burn-rate rule needs 0 < short < long and a positive threshold: {part!r}")
        rules.append(rule)
    return rules


def burn_rate(value: float, objective: float) -> float:
    allowed = 100.0 - objective
    if allowed <= 0:  # a 100 % objective: any error is an infinite burn, none is none
        return float("inf") if value < 100.0 else 0.0
    return max(0.0, 100.0 - value) / allowed


def mean_burn(points: list[Point], *, since: datetime, now: datetime) -> float | None:
    window = [burn_rate(p.value, p.objective) for p in points if since < p.at <= now]
    return sum(window) / len(window) if window else None


def firing(points: list[Point], rules: list[BurnRule], now: datetime) -> list[tuple[BurnRule, float, float]]:
    """The rules that fire at `now` on these observations of one SLI, with their long and short
    window burn rates."""
    out = []
    for rule in rules:
        long_rate = mean_burn(points, since=now - timedelta(minutes=rule.long_minutes), now=now)
        short_rate = mean_burn(points, since=now - timedelta(minutes=rule.short_minutes), now=now)
        if long_rate is not None and short_rate is not None and min(long_rate, short_rate) >= rule.threshold:
            out.append((rule, long_rate, short_rate))
    return out
