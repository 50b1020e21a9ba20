"""A name in a question ("api-server", "checkout", "robusta-runner") -> the label values that really carry it.

    found = await resolve(client, "api-server", since="24h")
    found["selector"]            # '{app="api-server"}': the Loki stream selector to scope a log query
    found["prometheus_matcher"]  # 'app="api-server"': the matcher to add to a PromQL selector
    found["matches"]             # every (backend, label, values, how) that matched

Label values come from Loki's and Prometheus' label APIs through `discover_values`, the one place that asks the
instance; nothing is assumed about which labels exist.
"""

from __future__ import annotations

import asyncio
import re
from typing import TYPE_CHECKING, Any

from skills.base import SkillError
from skills.grafana.discovery import Kind
from skills.grafana.timeutil import TimeLike, TimeRange, to_ns

if TYPE_CHECKING:
    from skills.grafana.api import GrafanaAPI

# Labels that name a workload, in the order a selector prefers them.
SUBJECT_LABELS = ("service_name", "app", "job", "namespace", "pod", "container", "source", "service")
MAX_VALUES = 10
_RANK = {"exact": 3, "prefix": 2, "part": 1}


def squash(text: str) -> str:
    """'API Server', 'api-server', 'api_server' -> 'apiserver'."""
    return re.sub(r"[^a-z0-9]", "", text.lower())


def how_matches(name: str, value: str) -> str | None:
    """'exact', 'prefix' (a pod or versioned name: checkout-7d9f), 'part' (one segment: prod/checkout) or None."""
    want, have = squash(name), squash(value)
    if not want or not have:
        return None
    if want == have:
        return "exact"
    segments = [squash(s) for s in re.split(r"[-_./:]", value) if squash(s)]
    for i in range(len(segments)):  # runs of whole segments: "api-server" in "api-server-7d9f" or "prod/api-server"
        joined = ""
        for seg in segments[i:]:
            joined += seg
            if joined == want:
                return "prefix" if i == 0 else "part"
            if len(joined) >= len(want):
                break
    return None


def match_values(name: str, values: list[str]) -> tuple[str, list[str]] | None:
    """The best kind of match and the values with it, or None."""
    found: dict[str, list[str]] = {}
    for value in values:
        how = how_matches(name, value)
        if how:
            found.setdefault(how, []).append(value)
    if not found:
        return None
    best = max(found, key=lambda h: _RANK[h])
    return best, sorted(found[best])


async def label_names(client: GrafanaAPI, kind: Kind, window: TimeRange, since: str | None) -> list[str]:
    """Label names of one backend (Loki: streams in the window): from the team's discovery cache when the window
    ends now (`since`), else asked for that window."""
    if since is not None:
        return await client.discovery.label_names(kind, since=since)
    uid = await client.require_uid(kind)
    if kind == "loki":
        body = await client.proxy(uid, "loki/api/v1/labels", _window(window), upstream="Loki")
        return sorted(n for n in _strings(body) if not n.startswith("__"))
    return sorted(_strings(await client.proxy(uid, "api/v1/labels", None, upstream="Prometheus")))


async def label_values(client: GrafanaAPI, kind: Kind, name: str, window: TimeRange, since: str | None) -> list[str]:
    """The values of one label of one backend: from the discovery cache when the window ends now, else asked."""
    if since is not None:
        return await client.discovery.label_values(kind, name, since=since)
    uid = await client.require_uid(kind)
    if kind == "loki":
        body = await client.proxy(uid, f"loki/api/v1/label/{name}/values", _window(window), upstream="Loki")
        return sorted(_strings(body))
    return sorted(_strings(await client.proxy(uid, f"api/v1/label/{name}/values", None, upstream="Prometheus")))


def _window(window: TimeRange) -> dict[str, str]:
    return {"start": str(to_ns(window.start)), "end": str(to_ns(window.end))}


async def discover_values(
    client: GrafanaAPI, window: TimeRange, since: str | None = None, labels: tuple[str, ...] = SUBJECT_LABELS
) -> dict[str, Any]:
    """{"loki": {label: values}, "prometheus": {label: values}} for the workload labels each backend has.

    Every lookup goes through label_names / label_values above (the place to put a shared discovery cache); the
    backends and their labels are asked concurrently; a backend that is missing or failing is left out, its error
    under "errors".
    """

    async def side(kind: Kind) -> dict[str, list[str]]:
        names = set(await label_names(client, kind, window, since))
        present = [n for n in labels if n in names]
        values = await asyncio.gather(*(label_values(client, kind, n, window, since) for n in present))
        return dict(zip(present, values, strict=True))

    results = await asyncio.gather(side("loki"), side("prometheus"), return_exceptions=True)
    out: dict[str, Any] = {}
    errors: list[str] = []
    for backend, result in zip(("loki", "prometheus"), results, strict=True):
        if isinstance(result, SkillError):
            errors.append(f"{backend}: {result.one_line()}")
        elif isinstance(result, BaseException):
            raise result
        else:
            out[backend] = result
    if errors:
        out["errors"] = errors
    return out


async def resolve(
    client: GrafanaAPI,
    name: str,
    *,
    since: str | None = "24h",
    start: TimeLike | None = None,
    end: TimeLike | None = None,
    prefer: tuple[str, ...] = (),
) -> dict[str, Any]:
    """Where `name` appears among the workload label values of Loki and Prometheus, best match first."""
    window = TimeRange.resolve(since, start, end, default="24h")
    found = await discover_values(client, window, since if start is None and end is None else None)
    matches = []
    for backend in ("loki", "prometheus"):
        for label, values in (found.get(backend) or {}).items():
            hit = match_values(name, values)
            if hit:
                matches.append({"backend": backend, "label": label, "how": hit[0], "values": hit[1][:MAX_VALUES]})
    order = list(prefer) + [label for label in SUBJECT_LABELS if label not in prefer]
    matches.sort(key=lambda m: (-_RANK[m["how"]], order.index(m["label"]) if m["label"] in order else 99))
    out: dict[str, Any] = {"name": name, "found": bool(matches), "matches": matches}
    out["labels_checked"] = {b: sorted(found.get(b) or {}) for b in ("loki", "prometheus")}
    if found.get("errors"):
        out["errors"] = found["errors"]
    loki_hit = next((m for m in matches if m["backend"] == "loki"), None)
    prom_hit = next((m for m in matches if m["backend"] == "prometheus"), None)
    if loki_hit:
        out["selector"] = "{" + matcher(loki_hit["label"], loki_hit["values"]) + "}"
        out["loki_label"] = loki_hit["label"]
    if prom_hit:
        out["prometheus_matcher"] = matcher(prom_hit["label"], prom_hit["values"])
        out["prometheus_label"] = prom_hit["label"]
    if not matches:
        checked = ", ".join(sorted({lbl for b in out["labels_checked"].values() for lbl in b})) or "none"
        out["hint"] = (
            f"no Loki stream or Prometheus series has a label value like {name!r} (labels checked: {checked}); "
            "list_loki_label_values and list_label_values show the values that exist"
        )
    return out


def matcher(label: str, values: list[str]) -> str:
    """label="v" for one value, label=~"v1|v2" for several (regex metacharacters escaped)."""
    if len(values) == 1:
        return f'{label}="{_quote(values[0])}"'
    pattern = "|".join(re.sub(r"([.+*?()|\[\]{}^$\\])", r"\\\1", v) for v in values)
    return f'{label}=~"{_quote(pattern)}"'


def _quote(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _strings(body: Any) -> list[str]:
    data = body.get("data") if isinstance(body, dict) else None
    return [str(v) for v in data] if isinstance(data, list) else []
