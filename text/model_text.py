"""Text a model writes, made safe to post; and what the model reads from outside, marked as data.

A model repeats what it read. When a log line, an alert annotation or a pull request carries `<!channel>`, a
mention or `<https://evil.example/login|Grafana Explore>`, a model that quotes it would have sitrep ping a channel
or post a link whose label hides its target. So every text a model writes goes through one of these before it is
posted (answers, alert investigations, report summaries: `for_slack`; pull-request reviews: `for_github`):

- broadcasts never go out: Slack's `<!channel>`, `<!here>`, `<!everyone>`, `<!subteam^…>` (and any other `<!…>`)
  are escaped to show as text, bare `@channel`/`@here`/`@everyone` are broken with a zero-width space; on GitHub
  every `@team` and `@org/team` mention is put in code (GitHub notifies nobody for those);
- a person is mentioned only when they are in the conversation (`people`: Slack user ids or GitHub logins);
- a link keeps its label only when it points at one of `hosts` (the team's configured Grafana, Amplitude, GitHub
  and Vercel hosts); any other target is shown as its plain URL, so what it says is where it goes;
- any other `<…>` is escaped (Slack), and raw HTML tags are escaped (GitHub).

`as_data(what, text)` wraps text from outside (tool results, log lines, alert context, a pull request's words) in
`<data source="…">…</data>`, with any `</data` inside broken, for prompts whose system part says that instructions
inside data are not followed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

ZWSP = "\u200b"
_SLACK_TOKEN = re.compile(r"<([^<>]*)>")
_BARE_BROADCAST = re.compile(r"(?<![\w`])@(channel|here|everyone)\b", re.IGNORECASE)
_SLACK_USER = re.compile(r"^@([UW][A-Z0-9]{2,20})(\|[^|]*)?$")
_SLACK_CHANNEL = re.compile(r"^#[CG][A-Z0-9]{2,20}(\|[^|]*)?$")
_FENCE = re.compile(r"(```.*?```|`[^`\n]*`)", re.DOTALL)
_MD_LINK = re.compile(r"(!?)\[([^\]\n]*)\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"\n]*\")?\s*\)")
_MD_REFERENCE = re.compile(r"^( {0,3})\[([^\]\n]+)\]:[ \t]*<?(\S+?)>?(?:[ \t]+[^\n]*)?$", re.MULTILINE)
_GH_MENTION = re.compile(r"(?<![\w`/@.])@([A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))(/[A-Za-z0-9_.-]+)?")
_HTML_TAG = re.compile(r"<(?!https?://)(?=[A-Za-z/!?])")
_DATA_END = re.compile(r"</data", re.IGNORECASE)


def host_of(url: str) -> str | None:
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    return parts.hostname.lower() if parts.scheme in ("http", "https") and parts.hostname else None


def _allowed(url: str, hosts: frozenset[str]) -> bool:
    host = host_of(url)
    return host is not None and host in hosts


def _escape_token(body: str) -> str:
    return f"&lt;{body}&gt;"


def for_slack(text: str, hosts: Iterable[str] = (), people: Iterable[str] = ()) -> str:
    """Slack mrkdwn a model wrote, with no broadcast, no mention of someone outside `people`, and no link whose
    label hides a target outside `hosts`."""
    allowed, present = frozenset(h.lower() for h in hosts), frozenset(people)

    def token(match: re.Match[str]) -> str:
        body = match.group(1)
        if user := _SLACK_USER.match(body):
            return match.group(0) if user.group(1) in present else _escape_token(body)
        if _SLACK_CHANNEL.match(body):
            return match.group(0)  # a channel link pings nobody
        url, bar, _ = body.partition("|")
        if host_of(url) is None:
            return _escape_token(body)  # <!channel>, <!subteam^…>, <mailto:…|…>, <javascript:…>, anything else
        if bar and not _allowed(url, allowed):
            return f"<{url}>"  # the plain URL: what it says is where it goes
        return match.group(0)

    out: list[str] = []
    last = 0
    for match in _SLACK_TOKEN.finditer(text):
        out.append(_stray(text[last : match.start()]))
        out.append(token(match))
        last = match.end()
    out.append(_stray(text[last:]))
    return _BARE_BROADCAST.sub(lambda m: f"@{ZWSP}{m.group(1)}", "".join(out))


def _stray(text: str) -> str:
    return text.replace("<", "&lt;").replace(">", "&gt;")


def for_github(text: str, hosts: Iterable[str] = (), people: Iterable[str] = ()) -> str:
    """GitHub Markdown a model wrote, with no team mention, no mention of someone outside `people` (logins), and
    no link or image whose label hides a target outside `hosts`. Code spans and blocks are left as they are."""
    allowed = frozenset(h.lower() for h in hosts)
    present = frozenset(p.lower() for p in people)

    def link(match: re.Match[str]) -> str:
        url = match.group(3)
        return match.group(0) if _allowed(url, allowed) else url

    def reference(match: re.Match[str]) -> str:
        url = match.group(3)
        return match.group(0) if _allowed(url, allowed) else f"{match.group(1)}{match.group(2)}: {url}"

    def mention(match: re.Match[str]) -> str:
        login, team = match.group(1), match.group(2)
        return match.group(0) if not team and login.lower() in present else f"`{match.group(0)}`"

    parts = _FENCE.split(text)
    for i in range(0, len(parts), 2):  # the even parts are outside code
        prose = _MD_REFERENCE.sub(reference, _MD_LINK.sub(link, parts[i]))
        prose = _HTML_TAG.sub("&lt;", prose)
        parts[i] = _GH_MENTION.sub(mention, prose)
    return "".join(parts)


def as_data(what: str, text: str) -> str:
    """`text` from outside, delimited as data for a model: <data source="what">…</data>."""
    source = re.sub(r"[^\w .:/-]", "", what)[:80]
    body = _DATA_END.sub(r"<\\/data", text)
    return f'<data source="{source}">\n{body}\n</data>'
