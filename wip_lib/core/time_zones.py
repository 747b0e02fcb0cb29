"""Procore's UTC timestamps as the calendar dates of the place the work is done.

Rules:

- Procore stores and sends every timestamp in UTC (``2026-11-01T02:30:00Z``). A period cut-off is a
  local matter: a change order approved at 8:30 pm on October 31 in Denver (UTC-6 in summer time,
  UTC-7 after the first Sunday of November) is ``2026-11-01T02:30:00Z`` and belongs to October.
  So a timestamp becomes a date in the project's time zone, else the company's (``company.yaml:
  time_zone``), else UTC.
- Zone names: IANA names (``America/Denver``) or the Rails names Procore shows on projects
  (``Mountain Time (US & Canada)``, :data:`RAILS_ZONES`). An unknown name is ``None`` (the caller
  says so).
- A text is a timestamp when it carries a time after ``T`` (the API's ISO form, UTC when it names
  no offset) or an explicit zone (``Z``, ``+00:00``, `` UTC``). Plain dates (``10/31/2026``,
  ``2026-10-31``) are already calendar dates and are left as they are.
"""
from __future__ import annotations

import re
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd

# Procore (Rails ActiveSupport) time zone names seen on projects -> IANA names.
RAILS_ZONES = {
    "pacific time (us & canada)": "America/Los_Angeles",
    "mountain time (us & canada)": "America/Denver", "arizona": "America/Phoenix",
    "central time (us & canada)": "America/Chicago",
    "eastern time (us & canada)": "America/New_York", "alaska": "America/Anchorage",
    "hawaii": "Pacific/Honolulu", "atlantic time (canada)": "America/Halifax",
    "newfoundland": "America/St_Johns", "saskatchewan": "America/Regina",
    "indiana (east)": "America/Indiana/Indianapolis", "london": "Europe/London",
    "edinburgh": "Europe/London", "dublin": "Europe/Dublin", "sydney": "Australia/Sydney",
    "canberra": "Australia/Canberra", "melbourne": "Australia/Melbourne",
    "brisbane": "Australia/Brisbane", "adelaide": "Australia/Adelaide",
    "darwin": "Australia/Darwin", "hobart": "Australia/Hobart", "perth": "Australia/Perth",
    "auckland": "Pacific/Auckland", "wellington": "Pacific/Auckland", "utc": "UTC",
}

# A timestamp: a time after "T", or a time followed by a zone designator.
_STAMP = re.compile(r"^\s*\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}|\s+\d{2}:\d{2}(:\d{2}(\.\d+)?)?\s*"
                    r"(Z|UTC|[+-]\d{2}:?\d{2})\s*$)")


@lru_cache(maxsize=None)
def zone(name: str | None) -> str | None:
    """An IANA zone for a Procore (Rails or IANA) time zone name; None when unknown or blank."""
    if name is None:
        return None
    key = str(name).strip()
    if not key:
        return None
    candidate = RAILS_ZONES.get(key.casefold(), key)
    try:
        ZoneInfo(candidate)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return candidate


def is_stamp(values: pd.Series) -> pd.Series:
    """True where the text is a timestamp (see the module rules)."""
    return values.astype("string").fillna("").str.match(_STAMP).fillna(False).astype(bool)


def local_dates(values: pd.Series, tz: str | pd.Series | None) -> pd.Series:
    """Timestamps -> ``YYYY-MM-DD`` in ``tz`` (one zone, or one per row; UTC where None or blank);
    every other text unchanged (the date parser reads, or reports, it)."""
    s = values.astype("string").fillna("")
    stamp = is_stamp(s)
    if not stamp.any():
        return s
    text = s[stamp].str.strip().str.replace(r"\s*UTC$", "Z", regex=True)
    parsed = pd.to_datetime(text, utc=True, errors="coerce", format="ISO8601")
    if isinstance(tz, pd.Series):
        zones = tz.astype("string").fillna("").reindex(s.index).fillna("")[stamp]
    else:
        zones = pd.Series(tz or "", index=parsed.index, dtype="string")
    out = s.copy()
    for z in zones.unique():
        rows = (zones == z).to_numpy(dtype=bool)
        local = parsed[rows].dt.tz_convert(z or "UTC").dt.strftime("%Y-%m-%d").astype("string")
        out.loc[parsed.index[rows]] = local.where(parsed[rows].notna(), s[stamp][rows])
    return out
