"""Notifications as they arrive -> `Notification`, or `Unreadable` saying what could be read. Never raises.

Webhooks: Grafana Alerting's webhook contact point (version "1": receiver, status, orgId, alerts[] with values,
valueString, silenceURL, dashboardURL, panelURL, fingerprint; title, state, message) and Alertmanager's
webhook_config (version "4": the same alerts without Grafana's extras). Slack: the message Grafana's Slack contact
point posts (one attachment: title "[FIRING:1] …", title_link, text from the default template: "**Firing**",
then per alert "Value: A=1, B=2", "Labels:" / "Annotations:" lists of " - name = value", "Source:", "Silence:",
"Dashboard:", "Panel:" lines; footer "Grafana v…") and Alertmanager's default Slack message (title and
title_link only, color danger/good). That title is `[FIRING:n] <group label values> (<common label values>)`
(Alertmanager's template/default.tmpl, slack.default.title): the values without their label names, kept as the
alert's `title_values` for the investigation to match against label values it can see.
"""

from __future__ import annotations

import html
import re
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, Literal

from alerts.model import Alert, Notification, Status, Unreadable, fingerprint

_FRACTION = re.compile(r"(\.\d{6})\d+")
_TITLE = re.compile(r"^\s*\[(FIRING|RESOLVED)(?::(\d+))?(?:,\s*RESOLVED:(\d+))?\]\s*(.*)$", re.S)
_VALUE_PAIR = re.compile(r"([A-Za-z0-9_$]+)=(-?[0-9.eE+-]+|NaN|[+-]Inf)")
_ITEM = re.compile(r"^\s*-\s*([^=]+?)\s*=\s*(.*)$")
_LINKS = {"Source": "generator_url", "Silence": "silence_url", "Dashboard": "dashboard_url", "Panel": "panel_url"}
_ALERTY = re.compile(r"\b(firing|resolved|alert(?:ing)?)\b", re.I)
_GROUP = re.compile(r"^(?P<names>[^()]*?)\s*(?:\((?P<common>[^()]*)\))?\s*$")


def parse_time(value: Any) -> datetime | None:
    """RFC 3339 as Go writes it (nanoseconds, Z or an offset); Go's zero time (0001-01-01) is None."""
    if not isinstance(value, str) or not value or value.startswith("0001-01-01"):
        return None
    try:
        at = datetime.fromisoformat(_FRACTION.sub(r"\1", value.replace("Z", "+00:00")))
    except ValueError:
        return None
    return at.astimezone(UTC) if at.tzinfo else at.replace(tzinfo=UTC)


def _strings(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {str(k): str(v) for k, v in value.items() if v is not None}


def _status(value: Any) -> Status | None:
    text = str(value or "").lower()
    return "resolved" if text == "resolved" else "firing" if text == "firing" else None


def _values(value: Any) -> dict[str, float]:
    if not isinstance(value, dict):
        return {}
    return {str(k): float(v) for k, v in value.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}


def _webhook_alert(raw: Any, sender: str = "") -> Alert | None:
    if not isinstance(raw, dict):
        return None
    labels = _strings(raw.get("labels"))
    status = _status(raw.get("status"))
    if not labels or status is None:
        return None
    return Alert(
        status=status,
        labels=labels,
        annotations=_strings(raw.get("annotations")),
        starts_at=parse_time(raw.get("startsAt")),
        ends_at=parse_time(raw.get("endsAt")),
        values=_values(raw.get("values")),
        value_text=str(raw.get("valueString") or ""),
        generator_url=str(raw.get("generatorURL") or ""),
        fingerprint=str(raw.get("fingerprint") or "") or fingerprint(labels),
        silence_url=str(raw.get("silenceURL") or ""),
        dashboard_url=str(raw.get("dashboardURL") or ""),
        panel_url=str(raw.get("panelURL") or ""),
        sent_by=sender,
    )


def parse_webhook(body: Any, sender: Literal["grafana", "alertmanager"]) -> Notification | Unreadable:
    """A webhook body (already JSON-decoded) from Grafana or Alertmanager."""
    if not isinstance(body, dict):
        return Unreadable(f"a JSON {type(body).__name__}, not an object with `alerts`")
    raw_alerts = body.get("alerts")
    if not isinstance(raw_alerts, list):
        keys = ", ".join(sorted(str(k) for k in body)[:8]) or "nothing"
        return Unreadable(f"an object with {keys}, but no `alerts` list")
    alerts = [a for a in (_webhook_alert(r, sender) for r in raw_alerts) if a is not None]
    if not alerts:
        return Unreadable(f"{len(raw_alerts)} alerts, none with labels and a firing/resolved status")
    status = _status(body.get("status")) or ("firing" if any(a.status == "firing" for a in alerts) else "resolved")
    truncated = body.get("truncatedAlerts")
    return Notification(
        source=sender,
        status=status,
        alerts=alerts,
        title=str(body.get("title") or ""),
        external_url=str(body.get("externalURL") or ""),
        receiver=str(body.get("receiver") or ""),
        group_key=str(body.get("groupKey") or ""),
        truncated=truncated if isinstance(truncated, int) and not isinstance(truncated, bool) else 0,
    )


def from_a_bot(event: dict[str, Any]) -> bool:
    return bool(event.get("bot_id")) or event.get("subtype") == "bot_message"


def parse_slack_message(event: dict[str, Any]) -> Notification | Unreadable | None:
    """A channel message: a Notification when it is Grafana's or Alertmanager's, Unreadable when a bot posted
    something alert-like sitrep cannot read, None for anything else (ordinary chat, other bots' chatter)."""
    if not from_a_bot(event):
        return None
    attachments = [a for a in event.get("attachments") or [] if isinstance(a, dict)]
    for attachment in attachments:
        title = str(attachment.get("title") or attachment.get("fallback") or "")
        match = _TITLE.match(title)
        if match:
            return _from_attachment(attachment, match, footer=str(attachment.get("footer") or ""))
    text = str(event.get("text") or "")
    match = _TITLE.match(text)
    if match:
        return _from_text(text.split("\n", 1)[0], "", "slack", match)
    blob = " ".join([text] + [str(a.get("title") or a.get("text") or "") for a in attachments])
    if _ALERTY.search(blob):
        status = (
            "resolved"
            if re.search(r"\bresolved\b", blob, re.I)
            else "firing"
            if re.search(r"\bfiring\b", blob, re.I)
            else None
        )
        said = f"status {status}" if status else "no firing/resolved status"
        return Unreadable(f"a message from a bot that mentions alerts ({said}), without a `[FIRING:n] name` title")
    return None


def _from_attachment(attachment: dict[str, Any], match: re.Match[str], *, footer: str = "") -> Notification:
    title = html.unescape(str(attachment.get("title") or attachment.get("fallback") or "")).strip()
    link = html.unescape(str(attachment.get("title_link") or ""))
    text = html.unescape(str(attachment.get("text") or ""))  # Slack stores &, < and > escaped
    return _from_text(title, text, "slack", match, link=link, footer=footer)


def _from_text(
    title: str, text: str, source: Literal["slack"], match: re.Match[str], *, link: str = "", footer: str = ""
) -> Notification:
    status: Status = "firing" if match.group(1) == "FIRING" else "resolved"
    alerts = _alerts_from_text(text)
    if not alerts:  # Alertmanager's default Slack message: the title's label values only, without their names
        group = html.unescape(match.group(4)).strip()
        name, values = _title_values(group)
        alerts = [
            Alert(
                status=status,
                labels={"alertname": name},
                generator_url=link,
                fingerprint=fingerprint({"title": group}),
                title_values=values,
                group_count=int(match.group(2) or 0),
                sent_by="grafana" if footer.startswith("Grafana") else "alertmanager",
            )
        ]
    else:
        alerts = [a if a.generator_url or not link else replace(a, generator_url=link) for a in alerts]
    return Notification(source=source, status=status, alerts=alerts, title=title)


def _title_values(group: str) -> tuple[str, tuple[str, ...]]:
    """ "APIHighLatency (app-107 api-server warning)" -> ("APIHighLatency", ("app-107", "api-server", "warning")):
    the first group value is taken as the alert's name (group_by alertname, Alertmanager's usual grouping)."""
    found = _GROUP.match(group)
    names = (found.group("names") if found else group).split()
    common = (found.group("common") or "").split() if found else []
    if not names:
        return "alert", tuple(common)
    return names[0], tuple(dict.fromkeys([*names[1:], *common]))


def _alerts_from_text(text: str) -> list[Alert]:
    """Grafana's default Slack text: "**Firing**" and "**Resolved**" sections, each alert starting "Value:"."""
    alerts: list[Alert] = []
    status: Status = "firing"
    current: dict[str, Any] | None = None
    part = ""
    for raw in text.replace("\r", "").split("\n"):
        line = raw.strip()
        bare = line.strip("*").strip().lower()
        if bare in ("firing", "resolved") and line.startswith("*"):
            status = "firing" if bare == "firing" else "resolved"
            continue
        if line.startswith("Value:"):
            if current:
                alerts.append(_text_alert(current))
            value = line[len("Value:") :].strip()
            current = {"status": status, "labels": {}, "annotations": {}, "value_text": value, "links": {}}
            current["values"] = {k: float(v) for k, v in _VALUE_PAIR.findall(value)}
            part = ""
            continue
        if current is None:
            continue
        if line in ("Labels:", "Annotations:"):
            part = "labels" if line == "Labels:" else "annotations"
            continue
        item = _ITEM.match(raw)
        if item and part:
            current[part][item.group(1).strip()] = item.group(2).strip()
            continue
        head, _, rest = line.partition(": ")
        if head in _LINKS and rest:
            current["links"][_LINKS[head]] = rest.strip().strip("<>").split("|", 1)[0]
            part = ""
    if current:
        alerts.append(_text_alert(current))
    return [a for a in alerts if a.labels]


def _text_alert(parts: dict[str, Any]) -> Alert:
    labels = parts["labels"]
    return Alert(
        status=parts["status"],
        labels=labels,
        annotations=parts["annotations"],
        values=parts["values"],
        value_text=parts["value_text"],
        fingerprint=fingerprint(labels) if labels else "",
        **parts["links"],
    )
