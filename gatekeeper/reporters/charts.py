"""Bar charts of KPI trends, laid out in SVG user units here so the HTML templates only draw them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from gatekeeper.checks.kpi import KpiReport, KpiValue


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value: str


@dataclass(frozen=True)
class Chart:
    """A bar chart laid out in SVG user units; the template only draws it."""

    title: str
    bars: tuple[Bar, ...]
    width: int = 320
    height: int = 180
    top: float = 24
    bottom: float = 150
    left: float = 34
    ticks: tuple[tuple[float, str], ...] = field(default_factory=tuple)


def bar_chart(title: str, points: Sequence[tuple[str, float | None]], *, decimals: int = 0) -> Chart:
    width, top, bottom, left, right = 320, 24.0, 150.0, 34.0, 312.0
    values = [v for _, v in points if v is not None]
    peak = max(values, default=0.0) or 1.0
    slot = (right - left) / max(len(points), 1)
    bars = []
    for i, (label, value) in enumerate(points):
        h = 0.0 if value is None else (bottom - top) * value / peak
        text = "–" if value is None else f"{value:.{decimals}f}"
        bar_width = min(slot * 0.7, 36.0)  # one month alone is a bar, not a wall
        bars.append(
            Bar(
                round(left + i * slot + (slot - bar_width) / 2, 1),
                round(bottom - h, 1),
                round(bar_width, 1),
                round(h, 1),
                label,
                text,
            )
        )
    ticks = tuple(
        (round(bottom - (bottom - top) * f, 1), f"{peak * f:.{decimals}f}") for f in (0.0, 0.5, 1.0)
    )
    return Chart(title, tuple(bars), width, 180, top, bottom, left, ticks)


def _month_value(values: tuple[KpiValue, ...], kpi_id: str, use: str = "value") -> float | None:
    for value in values:
        if value.id == kpi_id:
            found = getattr(value, use)
            return None if found is None else float(found)
    return None


def trend_charts(kpis: KpiReport, words: dict[str, str]) -> list[Chart]:
    """The last twelve months: deployments, failure rate, time to recover (titles from `words`)."""
    months = [(month[2:].replace("-", "."), values) for _system, month, values in kpis.months[-12:]]
    deployments = [(m, _month_value(v, "deployment-success-rate", "denominator") or 0.0) for m, v in months]
    failure = [(m, _month_value(v, "deployment-failure-rate")) for m, v in months]
    mttr = [(m, _month_value(v, "mttr-minutes")) for m, v in months]
    return [
        bar_chart(words["deployments"], deployments),
        bar_chart(words["failure"], failure, decimals=1),
        bar_chart(words["mttr"], mttr, decimals=0),
    ]
