"""Time phrases in a question -> a window, for both planners. Pure: the caller passes "now" in the team's zone.

    reading = parse_time("errors since last Thursday", now)   # now: aware, in reports.timezone
    reading.window        # Window(start, end, label) or None when the question names no time
    reading.unreadable    # "since the outage": a time phrase that could not be read, to name in the answer

Understood: "last 6 hours", "past 30 min", "last hour/day/week", "today", "yesterday", "this morning/afternoon/
evening", weekdays ("since last Thursday", "on Monday"), dates ("since June 12", "on 2 August", "2026-08-02"),
clock times with or without a zone ("13:45 UTC", "9am"; without one, the team's zone), "around"/"at" a time
(±30 min) and "between 9 and 10 this morning" / "from 14:00 to 15:30".
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from agent.rules.timewords import MONTHS, PARTS, WEEKDAYS, ZONES

AROUND = timedelta(minutes=30)
_MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))
_WEEKDAY = "|".join(sorted(WEEKDAYS, key=len, reverse=True))
_ZONE = r"(?:(?P<zone>utc|gmt|z|[a-z]+/[a-z_]+|" + "|".join(k for k in ZONES if k not in ("utc", "gmt", "z")) + r")\b)"
_CLOCK = r"(\d{1,2})(?!\d)(?::(\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)?(?![\w%])"
_AMOUNT = re.compile(
    r"\b(?:(?:last|past|previous|over the last|over the past|in the last|in the past|the last)\s+)?"
    r"(\d+(?:\.\d+)?)\s*(minutes?|mins?|m|hours?|hrs?|h|days?|d|weeks?|w)\b"
)
_UNIT_S = {"m": 60, "h": 3600, "d": 86400, "w": 604800}
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_MONTH_DAY = re.compile(rf"\b({_MONTH})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s+(\d{{4}}))?")
_DAY_MONTH = re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?({_MONTH})\b\.?(?:,?\s+(\d{{4}}))?")
_WEEKDAY_RE = re.compile(rf"\b(?:(last|this|past|previous)\s+)?({_WEEKDAY})\b")
_BETWEEN = re.compile(rf"\b(?:between|from)\s+{_CLOCK}\s*(?:and|to|-|–|until|till)\s*{_CLOCK}\s*{_ZONE}?")
_AROUND = re.compile(rf"(?:\b(?:around|about|at|circa|approx(?:imately)?)\s+|~\s*){_CLOCK}\s*{_ZONE}?")
_SINCE_CLOCK = re.compile(rf"\b(?:since|after|from)\s+{_CLOCK}\s*{_ZONE}?")
_AGO = re.compile(
    r"\b(?:(since|from)\s+)?(\d+|an?|one|two|three|four|five|six|ten|twelve)\s+"
    r"(minutes?|mins?|hours?|hrs?|days?)\s+ago\b"
)
NUMBER_WORDS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "ten": 10,
    "twelve": 12,
}
_NIGHT = re.compile(r"\blast night\b|\bovernight\b")
_WEEKEND = re.compile(r"\b(this|last|over the|the)\s+weekend\b")
_PART = re.compile(r"\b(this|yesterday|last)\s+(morning|afternoon|evening|night)\b|\b(tonight)\b")
_TRIGGER = re.compile(
    r"\b(since|between|around|after|before|until|on|at)\s+((?:the\s+|last\s+|this\s+)?[\w:.'/-]+(?:\s+[\w:.-]+){0,3})"
)
_TIMEISH = re.compile(
    rf"\b\d{{1,2}}(?::\d{{2}})?\s*(?:am|pm)\b|\b\d{{1,2}}:\d{{2}}\b|\b\d{{1,2}}(?:st|nd|rd|th)\b|\b\d{{4}}-\d"
    rf"|\b(?:{_MONTH}|{_WEEKDAY}|yesterday|today|morning|afternoon|evening|noon|midnight)\b"
)


@dataclass(frozen=True)
class Window:
    """The time range a question is about. `hours` reaches from the start back to now (Amplitude days)."""

    hours: float
    label: str  # "the last 1h", "since 00:00 America/Los_Angeles", "2 Aug 13:15–14:15 UTC"
    start: datetime | None = None
    end: datetime | None = None
    ends_now: bool = True  # a window that ends now goes to the tools as since=...

    @property
    def since(self) -> str:
        """A Grafana duration: whole minutes under 2 h, else whole hours (at least 5 minutes)."""
        minutes = max(5, math.ceil(self.hours * 60))
        return f"{minutes}m" if minutes < 120 and minutes % 60 else f"{math.ceil(minutes / 60)}h"

    def range_args(self) -> dict[str, str]:
        """The window as Grafana tool arguments: since=... when it ends now, else start and end in RFC 3339."""
        if not self.ends_now and self.start is not None and self.end is not None:
            return {"start": rfc3339(self.start), "end": rfc3339(self.end)}
        return {"since": self.since}

    def previous_args(self) -> dict[str, str] | None:
        """The window of the same length just before this one, as start and end; None when its bounds are unknown."""
        if self.start is None or self.end is None:
            return None
        length = self.end - self.start
        return {"start": rfc3339(self.start - length), "end": rfc3339(self.start)}

    @property
    def phrase(self) -> str:
        """The window inside a sentence: "in the last hour", "since 06:00 America/Los_Angeles", "on 2 Aug …"."""
        if self.label.startswith(("since", "between")):
            return self.label
        if not self.ends_now:
            return f"on {self.label}" if self.label[:1].isdigit() or self.label[:1].isupper() else self.label
        return f"in {self.label}"

    @property
    def short(self) -> str:
        """For a scope line: "last 24 h", "since 06:00 PST", "2 Aug 13:15–14:15 UTC"."""
        text = self.label.removeprefix("the ")
        return re.sub(r"^last (\d+(?:\.\d+)?)([mhdw])$", r"last \1 \2", text)

    @property
    def days(self) -> int:
        """Amplitude days, today included: 1 within a day, else enough whole days to cover the range."""
        return max(1, min(90, math.ceil(self.hours / 24 - 1e-9)))

    @property
    def interval(self) -> str:
        return "hour" if self.days <= 2 else "day"


def relative(hours: float, label: str, now: datetime | None = None) -> Window:
    """A window that ends now (`now` gives it bounds, for comparisons with the window before)."""
    if now is None:
        return Window(hours, label)
    return Window(hours, label, now - timedelta(hours=hours), now, True)


@dataclass(frozen=True)
class TimeReading:
    window: Window | None = None
    unreadable: str | None = None  # the phrase, as written, that looked like a time but could not be read


def rfc3339(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _zone(name: str | None, now: datetime) -> tzinfo:
    """A zone the question names ("UTC", "PT", "Europe/Paris"), else the team's (now's)."""
    key = ZONES.get((name or "").lower()) or (_iana(name) if name and "/" in name else None)
    if not key:
        return now.tzinfo or UTC
    try:
        return ZoneInfo(key)
    except (ZoneInfoNotFoundError, ValueError):
        return now.tzinfo or UTC


@functools.cache
def _iana_names() -> dict[str, str]:
    return {n.lower(): n for n in available_timezones()}


def _iana(name: str) -> str | None:
    return _iana_names().get(name.lower())


def _zone_name(tz: tzinfo, at: datetime) -> str:
    name = at.astimezone(tz).tzname() or str(tz)
    return "UTC" if name in ("UTC", "Z", "GMT") else name


def _clock(hour: str, minute: str | None, meridiem: str | None, part: str | None = None) -> time | None:
    h, m = int(hour), int(minute or 0)
    mer = (meridiem or "").replace(".", "")
    if mer:
        if not 1 <= h <= 12:
            return None
        h = h % 12 + (12 if mer == "pm" else 0)
    elif part in ("afternoon", "evening", "night", "tonight") and h < 12:
        h += 12
    if not (0 <= h <= 23 and 0 <= m <= 59):
        return None
    return time(h, m)


def _day_of(text: str, now: datetime) -> tuple[date | None, str, bool]:
    """(the day a question names, how to say it, whether it is a 'since' day) — or (None, '', False)."""
    today = now.date()
    for m in (_ISO_DATE.search(text),):
        if m:
            try:
                d = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            except ValueError:
                return None, "", False
            return d, f"{d:%-d %b %Y}", _is_since(text, m.start())
    for regex, month_group, day_group in ((_MONTH_DAY, 1, 2), (_DAY_MONTH, 2, 1)):
        m = regex.search(text)
        if m and not (m.group(month_group) == "may" and regex is _MONTH_DAY and not _is_since(text, m.start())):
            year = int(m.group(3)) if m.group(3) else today.year
            try:
                d = date(year, MONTHS[m.group(month_group)], int(m.group(day_group)))
            except ValueError:
                return None, "", False
            if not m.group(3) and d > today:
                d = d.replace(year=year - 1)
            return d, f"{d:%-d %b}", _is_since(text, m.start())
    m = _WEEKDAY_RE.search(text)
    if m:
        wanted = WEEKDAYS[m.group(2)]
        back = (today.weekday() - wanted) % 7
        if back == 0 and m.group(1) in ("last", "past", "previous"):
            back = 7
        d = today - timedelta(days=back)
        return d, f"{d:%a %-d %b}", _is_since(text, m.start())
    if re.search(r"\byesterday\b", text):
        return today - timedelta(days=1), "yesterday", bool(re.search(r"\bsince\s+yesterday\b", text))
    if re.search(r"\btoday\b|\bthis (?:morning|afternoon|evening)\b|\btonight\b", text):
        return today, "today", True
    return None, "", False


def _is_since(text: str, at: int) -> bool:
    return bool(re.search(r"\b(?:since|after|from)\s+(?:last\s+|this\s+|the\s+)?$", text[:at]))


def _at(d: date, t: time, tz: tzinfo) -> datetime:
    return datetime.combine(d, t, tzinfo=tz)


def parse_time(text: str, now: datetime) -> TimeReading:
    """The window a question names (see the module doc). `text` may be raw; `now` must be aware."""
    text = " ".join(text.lower().replace("’", "'").split())
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    window = _parse(text, now)
    if window is not None:
        return TimeReading(window)
    return TimeReading(None, _unreadable(text))


def _parse(text: str, now: datetime) -> Window | None:
    return (
        _clock_window(text, now)
        or _ago(text, now)
        or _night_or_weekend(text, now)
        or _day_window(text, now)
        or _relative(text, now)
    )


def _ago(text: str, now: datetime) -> Window | None:
    """ "2 hours ago" (±30 min around then), "3 days ago" (that day), "since 2 hours ago"."""
    m = _AGO.search(text)
    if not m:
        return None
    amount = int(m.group(2)) if m.group(2).isdigit() else NUMBER_WORDS[m.group(2)]
    unit = m.group(3)[0]
    at = now - timedelta(seconds=amount * _UNIT_S[unit])
    zone = _zone_name(now.tzinfo or UTC, now)
    if m.group(1):
        return _window(at, now, now, f"since {_day_word(at, now)} {at:%H:%M} {zone}".replace("today ", ""))
    if unit == "d":
        start = _at(at.date(), time(0), now.tzinfo or UTC)
        return _window(start, start + timedelta(days=1), now, f"{at:%a %-d %b} (00:00–24:00 {zone})")
    label = f"{_day_word(at, now)} {(at - AROUND):%H:%M}–{(at + AROUND):%H:%M} {zone}"
    return _window(at - AROUND, at + AROUND, now, label)


def _night_or_weekend(text: str, now: datetime) -> Window | None:
    """ "last night" / "overnight": yesterday 18:00 to today 06:00; "this/last weekend": Saturday and Sunday."""
    tz = now.tzinfo or UTC
    zone = _zone_name(tz, now)
    today = now.date()
    if _NIGHT.search(text):
        start = _at(today - timedelta(days=1), time(18), tz)
        return _window(start, _at(today, time(6), tz), now, f"overnight (yesterday 18:00–06:00 {zone})")
    m = _WEEKEND.search(text)
    if m:
        saturday = today - timedelta(days=(today.weekday() - 5) % 7)
        if m.group(1) == "last" and today.weekday() >= 5:
            saturday -= timedelta(days=7)
        start = _at(saturday, time(0), tz)
        return _window(start, start + timedelta(days=2), now, f"the weekend of {saturday:%a %-d %b} ({zone})")
    return None


def _window(start: datetime, end: datetime, now: datetime, label: str) -> Window | None:
    end = min(end, now)
    if start >= end:
        return None
    hours = max((now - start).total_seconds() / 3600, 1 / 60)
    return Window(hours, label, start, end, abs((now - end).total_seconds()) < 60)


def _clock_window(text: str, now: datetime) -> Window | None:
    """Between two times, around a time, or since a time, on the day the question names (else today)."""
    part_m = _PART.search(text)
    part = (part_m.group(2) or part_m.group(3)) if part_m else None
    day, day_label, _ = _day_of(text, now)
    explicit_day = day is not None
    m = _BETWEEN.search(text)
    if m:
        zone = _zone(m.group("zone"), now)
        t1, t2 = (
            _clock(m.group(1), m.group(2), m.group(3) or m.group(6), part),
            _clock(m.group(4), m.group(5), m.group(6), part),
        )
        if t1 is None or t2 is None:
            return None
        if t2 <= t1 and not m.group(6) and t2.hour < 12:
            t2 = time(t2.hour + 12, t2.minute)  # "between 11 and 1"
        d = day or now.astimezone(zone).date()
        start, end = _at(d, t1, zone), _at(d, t2, zone)
        if not explicit_day and start > now:
            start, end = start - timedelta(days=1), end - timedelta(days=1)
        where = day_label if explicit_day else _day_word(start, now)
        return _window(start, end, now, f"{where} {t1:%H:%M}–{t2:%H:%M} {_zone_name(zone, start)}")
    m = _AROUND.search(text)
    if m and (m.group(2) or m.group(3) or m.group("zone") or not text[m.end(1) :].lstrip().startswith(("h", "m", "d"))):
        zone = _zone(m.group("zone"), now)
        t = _clock(m.group(1), m.group(2), m.group(3), part)
        if t is None:
            return None
        d = day or now.astimezone(zone).date()
        at = _at(d, t, zone)
        if not explicit_day and at > now:
            at -= timedelta(days=1)
        where = day_label if explicit_day else _day_word(at.astimezone(zone), now)
        label = f"{where} {(at - AROUND):%H:%M}–{(at + AROUND):%H:%M} {_zone_name(zone, at)}"
        return _window(at - AROUND, at + AROUND, now, label)
    m = _SINCE_CLOCK.search(text)
    if m and (m.group(2) or m.group(3) or m.group("zone")):
        zone = _zone(m.group("zone"), now)
        t = _clock(m.group(1), m.group(2), m.group(3), part)
        if t is None:
            return None
        d = day or now.astimezone(zone).date()
        start = _at(d, t, zone)
        if not explicit_day and start > now:
            start -= timedelta(days=1)
        where = f"{day_label} " if explicit_day and day_label != "today" else ""
        return _window(start, now, now, f"since {where}{t:%H:%M} {_zone_name(zone, start)}")
    return None


def _day_word(at: datetime, now: datetime) -> str:
    back = (now.astimezone(at.tzinfo).date() - at.date()).days
    return "today" if back == 0 else "yesterday" if back == 1 else f"{at:%a %-d %b}"


def _day_window(text: str, now: datetime) -> Window | None:
    """A part of a day, a whole day, or since a day."""
    tz = now.tzinfo or UTC
    day, label, since = _day_of(text, now)
    if day is None:
        return None
    part_m = _PART.search(text)
    zone = _zone_name(tz, now)
    if part_m:
        part = part_m.group(2) or part_m.group(3)
        h1, h2 = PARTS[part]
        start = _at(day, time(h1), tz)
        end = _at(day, time(0), tz) + timedelta(days=1) if h2 == 24 else _at(day, time(h2), tz)
        if day == now.date():
            return _window(start, now, now, f"since {start:%H:%M} {zone}") if start < now else None
        return _window(start, end, now, f"{label} {part} ({h1:02d}:00–{h2 % 24:02d}:00 {zone})")
    start = _at(day, time(0), tz)
    if day == now.date() or since:
        where = f"{start:%H:%M}" if day == now.date() else f"{label} 00:00"
        return _window(start, now, now, f"since {where} {zone}")
    return _window(start, start + timedelta(days=1), now, f"{label} (00:00–24:00 {zone})")


def _relative(text: str, now: datetime) -> Window | None:
    m = _AMOUNT.search(text)
    if m:
        amount, unit = float(m.group(1)), m.group(2)[0]
        if amount > 0:
            return relative(amount * _UNIT_S[unit] / 3600, f"the last {m.group(1)}{unit}", now)
    if re.search(r"\b(?:last|past|this|the) hour\b", text):
        return relative(1, "the last hour", now)
    if re.search(r"\b(?:last|past) (?:day|24 ?h)\b", text):
        return relative(24, "the last 24h", now)
    if re.search(r"\b(?:last|past|this) week\b", text):
        return relative(24 * 7, "the last 7 days", now)
    if re.search(r"\b(?:last|past|this) month\b", text):
        return relative(24 * 30, "the last 30 days", now)
    return None


def _unreadable(text: str) -> str | None:
    """A phrase that reads like a time ("since the outage", "on 31 February", "around 25:00") but gave no window."""
    for m in _TRIGGER.finditer(text):
        word, rest = m.group(1), m.group(2).strip(" ?.!,")
        if word != "since" and not _TIMEISH.search(rest):
            continue
        return f"{word} {rest}"
    return None
