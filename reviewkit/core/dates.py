"""Dates as the report and the action plan print them ("5 October 2026", "June 2022")."""

from __future__ import annotations

import datetime as dt
import re

__all__ = ["date_range", "long_date"]


def long_date(value: str) -> str:
    """'2026-10-05' → '5 October 2026'; '2022-06' → 'June 2022'; other text unchanged."""
    value = (value or "").strip()
    try:
        d = dt.date.fromisoformat(value)
        return f"{d.day} {d:%B %Y}"
    except ValueError:
        pass
    m = re.fullmatch(r"([0-9]{4})-([0-9]{2})", value)
    if m and 1 <= int(m.group(2)) <= 12 and int(m.group(1)) >= 1:  # year 0000 does not exist
        return f"{dt.date(int(m.group(1)), int(m.group(2)), 1):%B %Y}"
    return value


def date_range(start: str, end: str) -> str:
    """'5 to 16 October 2026', '28 September to 9 October 2026', or one date."""
    if not start or not end or start == end:
        return long_date(start or end)
    try:
        a, b = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
    except ValueError:
        return f"{long_date(start)} to {long_date(end)}"
    if (a.year, a.month) == (b.year, b.month):
        return f"{a.day} to {b.day} {b:%B %Y}"
    if a.year == b.year:
        return f"{a.day} {a:%B} to {b.day} {b:%B %Y}"
    return f"{long_date(start)} to {long_date(end)}"
