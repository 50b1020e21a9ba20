"""Slack mrkdwn: escaping, Slack's text length limits, splitting, and mrkdwn made plain for a terminal.

The one module of mrkdwn helpers: the agent's answers, the reports and the Block Kit builders all use it.
"""

from __future__ import annotations

import re

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
