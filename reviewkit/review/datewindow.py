"""The dates a review can carry: from 2000 to two years ahead, so a mistyped year is caught.

In: a date, or a date field's text as typed. Out: None, or why it cannot be one of the review's
dates with the fix; the store refuses such a meeting or conversation date, and review.yaml and
the imports report it the same way.
"""

from __future__ import annotations

import datetime as dt
import re

from reviewkit.core.errors import InvalidInputError

# The dates a review's meetings, conversations and dates can carry: a year typed as 0001 or
# 2206 is a slip, refused with this window and the fix (see ``date_outside_window``).
EARLIEST_DATE = dt.date(2000, 1, 1)
FUTURE_YEARS = 2

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def latest_date(today: dt.date | None = None) -> dt.date:
    """The latest date a review can carry: ``FUTURE_YEARS`` after today (28 February for 29 February)."""
    today = today or dt.date.today()
    try:
        return today.replace(year=today.year + FUTURE_YEARS)
    except ValueError:  # 29 February
        return today.replace(year=today.year + FUTURE_YEARS, day=28)


def date_outside_window(day: dt.date, today: dt.date | None = None) -> str | None:
    """Why a real date cannot be one of a review's dates (None when it can): before 2000 or years ahead."""
    latest = latest_date(today)
    if EARLIEST_DATE <= day <= latest:
        return None
    return (f"is outside the dates a review can have ({EARLIEST_DATE.isoformat()} to {latest.isoformat()}); "
            "check the year")


def check_date(value: str, what: str) -> None:
    if value:
        try:
            if not _ISO_DATE.fullmatch(value):  # fromisoformat also takes 20260314 and 2026-W11-6
                raise ValueError(value)
            day = dt.date.fromisoformat(value)
        except ValueError:
            raise InvalidInputError(f"{what} must be written YYYY-MM-DD") from None
        outside = date_outside_window(day)
        if outside:
            raise InvalidInputError(f"the {what} {outside}")
