"""Amplitude: event trends, user activity, chart annotations, and "no events yet" detection."""

from skills.amplitude.client import AmplitudeClient, base_url_for
from skills.amplitude.segmentation import Filter, GroupBy, Series, SeriesRow
from skills.amplitude.skill import AmplitudeSkill, open_skill

__all__ = [
    "AmplitudeClient",
    "AmplitudeSkill",
    "Filter",
    "GroupBy",
    "Series",
    "SeriesRow",
    "base_url_for",
    "open_skill",
]
