"""The dashboard's result values (no queries): attainment, means kept as count and totals so groups
combine exactly, a row per dimension key, the trend against the previous period, an ISO week."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from companyos.timefmt import duration as format_duration

from .filters import ZERO


def percent(met: int, missed: int) -> Decimal | None:
    """met / (met + missed) in percent, rounded half-up to one decimal; None without outcomes."""
    total = met + missed
    if not total:
        return None
    return (Decimal(met) * 100 / Decimal(total)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def minutes(value: timedelta | None) -> Decimal | None:
    """A duration in minutes, rounded half-up to one decimal (what the page and the CSV show)."""
    if value is None:
        return None
    micro = value // timedelta(microseconds=1)
    return (Decimal(micro) / Decimal(60_000_000)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@dataclass
class Attainment:
    met: int = 0
    missed: int = 0
    pending: int = 0

    def __add__(self, other: Attainment) -> Attainment:
        return Attainment(self.met + other.met, self.missed + other.missed, self.pending + other.pending)

    @property
    def decided(self) -> int:
        return self.met + self.missed

    @property
    def percent(self) -> Decimal | None:
        return percent(self.met, self.missed)

    @property
    def heat(self) -> int | None:
        """The heat-map colour step of this attainment (HEAT_STEPS), None without outcomes."""
        return heat_step(self.percent)


# The heat map's colour steps: attainment at or above the bound → the step (a CSS class heat-N);
# below the last bound, step 0. Six fixed steps, so the page needs no inline style.
HEAT_STEPS = ((Decimal(95), 5), (Decimal(90), 4), (Decimal(80), 3), (Decimal(70), 2), (Decimal(50), 1))
HEAT_LEGEND = ("below 50%", "50–70%", "70–80%", "80–90%", "90–95%", "95% and over")


def heat_step(value: Decimal | None) -> int | None:
    if value is None:
        return None
    return next((step for bound, step in HEAT_STEPS if value >= bound), 0)


@dataclass
class Mean:
    """A mean duration kept as count and totals, so means of groups combine exactly."""

    count: int = 0
    calendar_total: timedelta = ZERO
    policy_total: timedelta = ZERO

    def __add__(self, other: Mean) -> Mean:
        return Mean(
            self.count + other.count, self.calendar_total + other.calendar_total, self.policy_total + other.policy_total
        )

    @property
    def calendar(self) -> timedelta | None:
        return self.calendar_total / self.count if self.count else None

    @property
    def policy(self) -> timedelta | None:
        return self.policy_total / self.count if self.count else None

    # For the page: minutes with one decimal (as in the CSV) and "5 h 12 min".
    @property
    def calendar_minutes(self) -> Decimal | None:
        return minutes(self.calendar)

    @property
    def policy_minutes(self) -> Decimal | None:
        return minutes(self.policy)

    @property
    def calendar_text(self) -> str:
        return duration_text(self.calendar)

    @property
    def policy_text(self) -> str:
        return duration_text(self.policy)


@dataclass
class Row:
    """One key of a dimension: attainment for both kinds, and (where computed) MTTA and MTTR."""

    key: str
    label: str
    first_response: Attainment = field(default_factory=Attainment)
    resolution: Attainment = field(default_factory=Attainment)
    mtta: Mean = field(default_factory=Mean)
    mttr: Mean = field(default_factory=Mean)
    priority: int | None = None
    ident: int | None = None  # the tenant's or team's id
    # The queue's filters for this row's cases (its own dimension): {"priority": "critical"},
    # {"segment": "smb"}, {"tenant": "acme"}, {"team": "none"}; {} for the overall row.
    dims: dict = field(default_factory=dict)

    def __iadd__(self, other: Row) -> Row:
        self.first_response += other.first_response
        self.resolution += other.resolution
        self.mtta += other.mtta
        self.mttr += other.mttr
        return self

    @property
    def missed(self) -> int:
        return self.first_response.missed + self.resolution.missed

    @property
    def clocks(self) -> int:
        fr, res = self.first_response, self.resolution
        return fr.decided + fr.pending + res.decided + res.pending


def _row_from(
    values: dict, key: str, label: str, prefix: str = "", *, durations: bool = False, priority: int | None = None
) -> Row:
    row = Row(key=key, label=label, priority=priority)
    row.first_response = Attainment(
        values[f"{prefix}fr_met"], values[f"{prefix}fr_missed"], values[f"{prefix}fr_pending"]
    )
    row.resolution = Attainment(
        values[f"{prefix}res_met"], values[f"{prefix}res_missed"], values[f"{prefix}res_pending"]
    )
    if durations:
        row.mtta = Mean(
            values[f"{prefix}fr_n"], values[f"{prefix}fr_calendar"] or ZERO, values[f"{prefix}fr_policy"] or ZERO
        )
        row.mttr = Mean(
            values[f"{prefix}res_n"], values[f"{prefix}res_calendar"] or ZERO, values[f"{prefix}res_policy"] or ZERO
        )
    return row


@dataclass
class Trend:
    """The change of a tile against the previous period of the same length."""

    current: Decimal | None
    previous: Decimal | None
    higher_is_better: bool = True
    unit: str = "pp"

    @property
    def delta(self) -> Decimal | None:
        if self.current is None or self.previous is None:
            return None
        return self.current - self.previous

    @property
    def direction(self) -> str:
        """up | down | flat | none (no comparison possible)."""
        if self.delta is None:
            return "none"
        return "flat" if self.delta == 0 else ("up" if self.delta > 0 else "down")

    @property
    def arrow(self) -> str:
        return {"up": "▲", "down": "▼", "flat": "▶", "none": "–"}[self.direction]

    @property
    def verdict(self) -> str:
        """better | worse | same | none."""
        if self.direction in ("flat", "none"):
            return {"flat": "same", "none": "none"}[self.direction]
        return "better" if (self.direction == "up") == self.higher_is_better else "worse"

    def _format(self, value: Decimal) -> str:
        if self.unit == "pp":
            return f"{value} pp"
        return duration_text(timedelta(minutes=float(value)))

    @property
    def text(self) -> str:
        """ "−3.3 pp (worse)", "+12 min (worse)", "unchanged", or why there is no comparison."""
        if self.delta is None:
            return "no data in the previous period" if self.previous is None else "no data in this period"
        if self.delta == 0:
            return "unchanged"
        sign = "+" if self.delta > 0 else "−"
        return f"{sign}{self._format(abs(self.delta))} ({self.verdict})"

    @property
    def previous_text(self) -> str:
        if self.previous is None:
            return "—"
        return f"{self.previous}%" if self.unit == "pp" else self._format(self.previous)


@dataclass
class Week:
    start: date
    label: str  # ISO week, e.g. 2026-W05
    partial: bool  # clipped by the date range
    first_response: Attainment
    resolution: Attainment

    @property
    def end(self) -> date:
        return self.start + timedelta(days=6)


def duration_text(value: timedelta | None) -> str:
    """A mean duration for the page: "42 min", "5 h 12 min" (hours, not days: business hours are
    not calendar days). Rounded to the minute from the one-decimal value the CSV shows."""
    m = minutes(value)
    if m is None:
        return "—"
    return format_duration(timedelta(minutes=int(m.quantize(Decimal("1"), rounding=ROUND_HALF_UP))), style="hours")
