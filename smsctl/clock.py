"""The current time, which ``SMSCTL_NOW`` can stand in for, and time helpers."""

from __future__ import annotations

import os
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import UsageError

UTC = timezone.utc


def now() -> datetime:
    """The current time in UTC, or ``SMSCTL_NOW`` when it is set."""
    override = os.environ.get("SMSCTL_NOW")
    if not override:
        return datetime.now(UTC).replace(microsecond=0)
    try:
        parsed = datetime.fromisoformat(override.strip().replace("z", "Z"))
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise UsageError(
            f"SMSCTL_NOW={override!r} is not an ISO 8601 time with an offset; "
            "use e.g. 2026-12-04T12:00:00Z"
        )
    return parsed.astimezone(UTC)


def now_epoch() -> int:
    return int(now().timestamp())


@lru_cache(maxsize=64)
def zone(name: str) -> ZoneInfo:
    """The IANA zone ``name``, or a UsageError naming it."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UsageError(
            f"unknown time zone {name!r}; use an IANA name such as America/New_York"
        ) from None


def local_zone_name() -> str:
    """The machine's IANA time zone name, or UTC when it cannot be told."""
    tz_env = os.environ.get("TZ", "").lstrip(":")
    if tz_env and _is_zone(tz_env):
        return tz_env
    try:
        with open("/etc/timezone", encoding="utf-8") as handle:
            name = handle.read().strip()
        if _is_zone(name):
            return name
    except OSError:
        pass
    try:
        target = os.path.realpath("/etc/localtime")
        if "zoneinfo/" in target:
            name = target.split("zoneinfo/", 1)[1]
            if _is_zone(name):
                return name
    except OSError:
        pass
    return "UTC"


def _is_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def epoch_of(moment: datetime) -> int:
    return int(moment.timestamp())


def from_epoch(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def iso_utc(seconds: int | None) -> str | None:
    """``2026-12-04T12:00:00Z`` for an epoch second, None for None."""
    if seconds is None:
        return None
    return from_epoch(seconds).strftime("%Y-%m-%dT%H:%M:%SZ")


def local_midnight(day: date, zone_name: str) -> int:
    """The epoch second at which ``day`` starts in ``zone_name``."""
    start = datetime(day.year, day.month, day.day, tzinfo=zone(zone_name))
    return epoch_of(start)


class LocalDays:
    """Maps epoch seconds to calendar dates in one zone, cached per quarter hour.

    Every offset in use is a whole number of quarter hours, so all seconds of
    one UTC quarter hour fall on the same local date.
    """

    def __init__(self, zone_name: str):
        self.zone = zone(zone_name)
        self._cache: dict[int, str] = {}

    def __call__(self, seconds: int) -> str:
        quarter = seconds // 900
        day = self._cache.get(quarter)
        if day is None:
            day = datetime.fromtimestamp(quarter * 900, self.zone).date().isoformat()
            self._cache[quarter] = day
        return day


def parse_date(text: str, what: str = "date") -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(f"{what} {text!r} is not a date; use YYYY-MM-DD") from None


DAY = timedelta(days=1)
