"""A WHERE clause made of the filters a caller gave, and only those.

Not `CAST(? AS TEXT) IS NULL OR status = ?`: PostgreSQL plans a prepared statement once
for any values after its fifth run (a generic plan), and for that plan `status = ?` may
not apply, so it walks the whole table (or a whole index in the page's order) testing
each row; SQLite does not fold the constant either. A statement per set of filters given
is planned for exactly those filters: a few texts per query, each prepared once.
"""

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

_WORD = re.compile(r"[a-z_]+")


@dataclass
class Where:
    conditions: list[str] = field(default_factory=list)
    params: list[Any] = field(default_factory=list)

    def equal(self, column: str, value: Any) -> "Where":
        """`column = value`, unless value is None (any)."""
        if value is not None:
            self.add(f"{column} = ?", value)
        return self

    def equal_word(self, column: str, value: str | None) -> "Where":
        """`column = 'value'` written out (`word`), unless value is None (any): for a column
        of a few states whose shares differ by orders of magnitude (a status, a kind). A
        value that is no such word is bound as `equal` binds it (no state is so named)."""
        if value is not None and _WORD.fullmatch(value):
            self.add(f"{column} = {word(value)}")
            return self
        return self.equal(column, value)

    def between(self, column: str, since: Any, until: Any) -> "Where":
        """`since <= column <= until`, each bound only when given (None: no bound)."""
        if since is not None:
            self.add(f"{column} >= ?", since)
        if until is not None:
            self.add(f"{column} <= ?", until)
        return self

    def add(self, condition: str, *params: Any) -> "Where":
        self.conditions.append(condition)
        self.params.extend(params)
        return self

    @property
    def sql(self) -> str:
        """`WHERE a AND b`, or nothing without a condition."""
        return f"WHERE {' AND '.join(self.conditions)}" if self.conditions else ""


def page(limit: int, offset: int = 0) -> str:
    """`LIMIT n OFFSET m` written out, not bound: a plan made without the values (generic)
    takes `LIMIT ?` for a tenth of the rows, and may join that many by reading a table whole;
    written out, the plan is made for the page's size. Each goes through `int()`: nothing
    a caller passes becomes SQL but a number."""
    return f"LIMIT {int(limit)} OFFSET {int(offset)}"


def word(value: str) -> str:
    """A state's name (`pending`, `low_stock`) written out as a literal, not bound: a plan
    made without the value takes every state for an equal share, so for a rare state
    (pending counts among thousands decided) it may walk the table in the page's order
    testing each row, unless its index can be read alone, which a busy table's pages,
    not all marked visible by VACUUM, do not allow; written out, each state is planned for
    its own share. Only lowercase letters and `_` pass: nothing a caller passes becomes
    SQL but such a word."""
    if not _WORD.fullmatch(value):
        raise ValueError(f"not a state's name: {value!r}")
    return f"'{value}'"


def day(value: str) -> str:
    """A day (`YYYY-MM-DD`) written out as a literal, not bound: a plan made without the
    values takes any range of days for a two-hundredth of the rows, so it reads a period
    through its days' index even where a page's sku range is far narrower; written out,
    the plan is made for the period's true share. Only a date passes (`date.fromisoformat`):
    nothing a caller passes becomes SQL but a date."""
    return f"'{date.fromisoformat(value).isoformat()}'"
