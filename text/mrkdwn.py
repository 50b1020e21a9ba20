"""Slack mrkdwn: escaping, Slack's text length limits, splitting, and mrkdwn made plain for a terminal.

The one module of mrkdwn helpers: the agent's answers, the reports and the Block Kit builders all use it.
"""

from __future__ import annotations

import math
import re
from typing import Any

SECTION_TEXT_MAX = 3000
HEADER_TEXT_MAX = 150
FIELD_TEXT_MAX = 2000


def truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def split_mrkdwn(text: str, limit: int = SECTION_TEXT_MAX) -> list[str]:
    """Split text into chunks of at most `limit` characters, at paragraph, then line, then word boundaries.

    A code fence cut in two is closed at the end of one chunk and reopened in the next.
    """
    chunks: list[str] = []
    rest = text.strip()
    while rest:
        if len(rest) <= limit:
            chunks.append(rest)
            break
        window = rest[: limit - 4]
        cut = max(window.rfind("\n\n"), 0) or max(window.rfind("\n"), 0) or max(window.rfind(" "), 0)
        if cut < limit // 3:
            cut = len(window)
        chunk, rest = rest[:cut].rstrip(), rest[cut:].lstrip("\n ")
        if chunk.count("```") % 2 == 1:
            chunk += "\n```"
            rest = "```\n" + rest
        chunks.append(chunk)
    return chunks or [""]


def plain(mrkdwn: str) -> str:
    """mrkdwn for a terminal: links become 'label [n]' with the URLs listed at the end; entities are unescaped."""
    urls: list[str] = []

    def footnote(match: re.Match[str]) -> str:
        url = match.group(1)
        if url not in urls:
            urls.append(url)
        return f"{match.group(2)} [{urls.index(url) + 1}]"

    text = re.sub(r"<(https?://[^|>]+)\|([^>]+)>", footnote, mrkdwn)
    text = re.sub(r"<(https?://[^>]+)>", r"\1", text)
    if urls:
        text += "\n\n" + "\n".join(f"[{i}] {url}" for i, url in enumerate(urls, 1))
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


# -- untrusted text, links, numbers: the same in an answer, a report and a Home tab ----------------------------


def esc(text: Any) -> str:
    """Untrusted text for mrkdwn: &, <, > escaped (no <!channel> or fake links), on one line."""
    return escape(" ".join(str(text).split()))


def link(url: str | None, label: Any) -> str:
    """A Slack link <url|label>; just the label when there is no URL. The label cannot end the link early."""
    text = esc(label).replace("|", "¦")
    if not url:
        return text
    safe = url.replace("|", "%7C").replace(">", "%3E").replace("<", "%3C").replace(" ", "%20")
    return f"<{safe}|{text}>"


def code(text: Any, limit: int = 160) -> str:
    """Inline code for a log line, pattern or query: one line, clipped, no backtick inside to break out."""
    flat = " ".join(str(text).split()).replace("`", "ˋ")
    flat = flat if len(flat) <= limit else flat[: limit - 1] + "…"
    return f"`{escape(flat)}`"


def num(value: Any) -> str:
    """1234 -> '1,234'; 1500.4 -> '1,500'; 566.67 -> '566.67'; 3.456 -> '3.46'; 0.12345 -> '0.123'; None -> 'n/a'.

    Integers (and values of 1,000 or more) with thousands separators; up to two decimals below 1,000, three
    significant digits below 1. Anything that is not a number is shown as (escaped) text.
    """
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return escape(str(value))
    if float(value).is_integer():
        return f"{int(value):,}"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 1:
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    return f"{value:.3g}"


def quantity(value: Any, unit: str = "") -> str:
    """A number with its unit: '12.5%', '457 ms' (seconds below 1 s), '1.23 s', '250 ms'; 'n/a' for nothing."""
    if value is None or isinstance(value, bool) or not isinstance(value, (int, float)):
        return "n/a" if value is None or isinstance(value, bool) else num(value)
    if unit == "%":
        return f"{num(value)}%"
    if unit == "s":
        return f"{num(round(value * 1000))} ms" if value < 1 else f"{num(round(value, 2))} s"
    if unit == "ms":
        return f"{num(round(value))} ms"
    return num(value)


def pct(part: float, whole: float) -> str:
    """part of whole in percent: '12.0%', '0.05%'; 'n/a' when whole is 0."""
    if not whole:
        return "n/a"
    value = 100.0 * part / whole
    return f"{value:.1f}%" if value >= 0.1 or value == 0 else f"{value:.2f}%"


def change(value: Any) -> str:
    """A change in percent as '+12%' / '-3%', or '' when unknown."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return ""
    return f"{value:+.0f}%"
