"""The tools' parameters as pydantic models: their JSON schemas are what the model sees."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from skills.amplitude.segmentation import MAX_GROUP_BY, Filter, FilterOp

MAX_DAYS = 90
MAX_HOURLY_DAYS = 7
MAX_HOURS = 72  # the last N hours and the N before, hourly, within the 7 days hourly segmentation serves
MAX_ANNOTATION_DAYS = 365


class Window(BaseModel):
    """A window of whole days: the last `days` days up to today, or start..end inclusive."""

    days: int = Field(7, ge=1, le=MAX_DAYS, description="the last N days, today included (ignored with start/end)")
    start: date | None = Field(None, description="first day, YYYY-MM-DD (with end)")
    end: date | None = Field(None, description="last day, YYYY-MM-DD, inclusive (with start)")

    @model_validator(mode="after")
    def _dates(self) -> Window:
        if (self.start is None) != (self.end is None):
            raise ValueError("give both start and end, or neither (then days counts back from today)")
        if self.start and self.end:
            if self.start > self.end:
                raise ValueError("start is after end")
            if self.span() > self.max_days():
                raise ValueError(f"the window is at most {self.max_days()} days")
        return self

    def max_days(self) -> int:
        return MAX_DAYS

    def span(self) -> int:
        if self.start and self.end:
            return (self.end - self.start).days + 1
        return self.days

    def dates(self, today: date) -> tuple[date, date]:
        if self.start and self.end:
            return self.start, self.end
        return today - timedelta(days=self.days - 1), today


class EventFilter(BaseModel):
    model_config = ConfigDict(coerce_numbers_to_str=True)

    prop: str = Field(
        min_length=1,
        description="event property name, e.g. error_type; 'user.' before a user property (user.country, "
        "user.plan): custom user properties are sent as gp:<name>",
    )
    op: FilterOp = Field("is", description="comparison")
    values: list[str] = Field(min_length=1, max_length=20, description="values to match (any of them)")

    def to_filter(self) -> Filter:
        return Filter(self.prop, tuple(self.values), self.op)


class QueryEventsParams(Window):
    event_type: str = Field(
        min_length=1,
        description="exact event name as list_events shows it, e.g. 'Agent Failed'; '_all' means any event",
    )
    hours: int | None = Field(
        None,
        ge=1,
        le=MAX_HOURS,
        description="the last N complete hours vs the N hours before, in hourly buckets (instead of days)",
    )
    interval: Literal["day", "hour", "week"] = Field(
        "day",
        description=f"bucket size; hourly serves {MAX_HOURLY_DAYS} days with the previous window included, so "
        "longer comparisons come back daily",
    )
    metric: Literal["totals", "uniques"] = Field("totals", description="totals = event count, uniques = users")
    filters: list[EventFilter] = Field(default_factory=list, max_length=5, description="all must match")
    group_by: list[str] = Field(
        default_factory=list,
        max_length=MAX_GROUP_BY,
        description="up to 2 property names to split by, e.g. ['error_type']; 'user.' prefix for user properties",
    )
    top: int = Field(10, ge=1, le=50, description="at most this many labels, busiest first")

    @field_validator("group_by", mode="before")
    @classmethod
    def _one_group(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("filters", mode="before")
    @classmethod
    def _one_filter(cls, value: Any) -> Any:
        return [value] if isinstance(value, dict) else value

    def max_days(self) -> int:
        return MAX_HOURLY_DAYS if self.interval == "hour" else MAX_DAYS

    @model_validator(mode="after")
    def _hourly(self) -> QueryEventsParams:
        if self.hours is not None and self.start is not None:
            raise ValueError("give hours, or start and end, not both")
        if self.span() > self.max_days():
            raise ValueError(f"with interval={self.interval} the window is at most {self.max_days()} days")
        return self


class UserActivityParams(BaseModel):
    model_config = ConfigDict(coerce_numbers_to_str=True)

    user_id: str = Field(min_length=1, description="the app's user id (or a device id or Amplitude id)")
    limit: int = Field(20, ge=1, le=100, description="at most this many events, newest first")


class AnnotationsParams(Window):
    days: int = Field(30, ge=1, le=MAX_ANNOTATION_DAYS, description="the last N days (ignored with start/end)")

    def max_days(self) -> int:
        return MAX_ANNOTATION_DAYS


class ListEventsParams(BaseModel):
    name_contains: str | None = Field(None, description="only event types whose name contains this (any case)")
    limit: int = Field(50, ge=1, le=200, description="at most this many event types, busiest first")
