"""`xs:dateTime` text <-> int64 UTC epoch seconds, in bulk (digest 2.2.5, DESIGN rule 6).

Readings carry `timeStamp` as `xs:dateTime`; the columnar path wants int64 epoch seconds. A
timestamp must carry a zone (`Z` or `+hh:mm`): a naive one is an error with a reason, never
read as UTC. Fractional seconds are accepted; the epoch keeps whole seconds (the exact text can
be kept by the caller; `has_fraction` tells when that matters).

Bulk conversion is fast because interval data repeats its timestamps across meters: a bounded
cache maps each distinct text to its epoch once, and the conversion of a list is one C-level
`map` over that cache; only texts not seen yet go through the strict parser.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from cimmeter.model.readings import Int64Array

# xs:dateTime lexical form (XML Schema 1.0 part 2, 3.2.7): -?yyyy-mm-ddThh:mm:ss(.s+)?(zone)?
_XS_DATETIME = re.compile(
    r"(-?\d{4,})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)?",
    re.ASCII,
)

_DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


class DateTimeLexicalError(ValueError):
    """A text that is not an `xs:dateTime` with a zone; `reason` says what is wrong."""

    def __init__(self, text: str, reason: str) -> None:
        super().__init__(f"{reason}: {text!r}")
        self.text = text
        self.reason = reason


EXPECTED = "an xs:dateTime with a zone, e.g. 2026-01-01T00:15:00Z or 2026-01-01T01:15:00+01:00"


def _days_from_civil(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm)."""
    year -= month <= 2
    era = year // 400
    yoe = year - era * 400
    doy = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def parse_epoch(text: str) -> int:
    """Epoch seconds (UTC) of one `xs:dateTime` text; raises `DateTimeLexicalError`."""
    stripped = text.strip()  # xs:dateTime has whiteSpace="collapse"
    m = _XS_DATETIME.fullmatch(stripped)
    if m is None:
        raise DateTimeLexicalError(text, "not an xs:dateTime")
    year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
    zone = m.group(8)
    if zone is None:
        raise DateTimeLexicalError(text, "timestamp without a time zone")
    if not 1 <= month <= 12:
        raise DateTimeLexicalError(text, "month out of range")
    last = 29 if month == 2 and _is_leap(year) else _DAYS_IN_MONTH[month - 1]
    if not 1 <= day <= last:
        raise DateTimeLexicalError(text, "day out of range")
    fraction = m.group(7)
    if hour == 24:
        # xs:dateTime allows 24:00:00 as the end of a day (the next day at 00:00:00)
        if minute or second or (fraction and fraction.strip(".0")):
            raise DateTimeLexicalError(text, "hour 24 is only allowed as 24:00:00")
    elif hour > 23 or minute > 59 or second > 59:
        raise DateTimeLexicalError(text, "time of day out of range")
    offset = 0
    if zone != "Z":
        zh, zm = int(zone[1:3]), int(zone[4:6])
        if zh > 14 or zm > 59 or (zh == 14 and zm):
            raise DateTimeLexicalError(text, "zone offset out of range")
        offset = (zh * 3600 + zm * 60) * (1 if zone[0] == "+" else -1)
    days = _days_from_civil(year, month, day)
    return days * 86400 + hour * 3600 + minute * 60 + second - offset


def has_fraction(text: str) -> bool:
    """True when the text has non-zero fractional seconds (which the epoch column drops)."""
    m = _XS_DATETIME.fullmatch(text.strip())
    return bool(m and m.group(7) and m.group(7).strip(".0"))


@dataclass(frozen=True, slots=True)
class BadTimestamp:
    index: int
    text: str
    reason: str


class EpochConverter:
    """Converts lists of `xs:dateTime` texts to int64 epoch columns through a bounded cache."""

    def __init__(self, max_entries: int = 1 << 18) -> None:
        self._cache: dict[str, int] = {}
        self._max = max_entries

    def convert(self, texts: Sequence[str]) -> tuple[Int64Array, list[BadTimestamp]]:
        """Epochs of `texts`; the bad ones are reported (their slot holds 0)."""
        n = len(texts)
        try:
            # the hot path: every text already known, one C-level pass
            return np.fromiter(map(self._cache.__getitem__, texts), np.int64, n), []
        except KeyError:
            pass
        out = np.empty(n, dtype=np.int64)
        bad: list[BadTimestamp] = []
        cache = self._cache
        for i, text in enumerate(texts):
            epoch = cache.get(text)
            if epoch is None:
                try:
                    epoch = parse_epoch(text)
                except DateTimeLexicalError as exc:
                    bad.append(BadTimestamp(i, text, exc.reason))
                    out[i] = 0
                    continue
                if len(cache) >= self._max:
                    cache.clear()
                # texts with a fraction are not cached: the caller keeps their exact text
                if not has_fraction(text):
                    cache[text] = epoch
            out[i] = epoch
        return out, bad


def format_epochs(epochs: Int64Array) -> list[str]:
    """ISO 8601 UTC texts with `Z` (`2026-01-01T00:15:00Z`) for an epoch column, vectorized."""
    texts = np.datetime_as_string(epochs.astype("datetime64[s]"), unit="s")
    return [t + "Z" for t in texts.tolist()]


def format_epoch(epoch: int) -> str:
    return format_epochs(np.asarray([epoch], dtype=np.int64))[0]
