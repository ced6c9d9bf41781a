"""Figures, percentiles and the table the benchmark prints (no I/O besides formatting)."""

import math
from collections.abc import Sequence
from dataclasses import dataclass


def percentile(samples: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile: an observed value, never an interpolated one."""
    if not samples:
        return math.nan
    ordered = sorted(samples)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True)
class Figure:
    """One measured figure, with the bare path's figure beside it and its target."""

    name: str
    value: float
    unit: str
    ceiling: float | None = None  # the bare path's figure, same unit
    target: str = ""  # what the target says, for the reader
    met: bool | None = None  # None: informative only

    @property
    def ratio(self) -> float | None:
        if self.ceiling in (None, 0) or math.isnan(self.value):
            return None
        return self.value / self.ceiling


def _number(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if math.isnan(value):
        return "n/a"
    if unit in ("ms", "s"):
        return f"{value:,.2f} {unit}"
    return f"{value:,.0f} {unit}"


def table(figures: Sequence[Figure]) -> str:
    """A Markdown table, so the same text goes into docs/performance.md."""
    rows = [("figure", "project", "bare path", "ratio", "target", "met")]
    for f in figures:
        ratio = f"{f.ratio:.2f}" if f.ratio is not None else "-"
        met = {True: "yes", False: "NO", None: "-"}[f.met]
        rows.append((f.name, _number(f.value, f.unit), _number(f.ceiling, f.unit), ratio,
                     f.target, met))  # fmt: skip
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |"
             for row in rows]  # fmt: skip
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def missed(figures: Sequence[Figure]) -> list[Figure]:
    return [f for f in figures if f.met is False]
