"""What a question is about, beyond its intent: names, status codes, paths, quoted terms, a metric, a grouping.

Pure: `subject_of(text)` reads the question as typed. The names it finds are only candidates; agent/rules/scope.py
matches them against the label values the instance really has (grafana_resolve_subject).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# The words that say what kind of thing a name is: "the api-server service", "pod checkout-7d9f".
KINDS = (
    "service",
    "svc",
    "microservice",
    "app",
    "application",
    "pod",
    "pods",
    "namespace",
    "ns",
    "container",
    "job",
    "deployment",
    "source",
)
GROUP_LABELS = (
    "namespace",
    "pod",
    "container",
    "job",
    "instance",
    "service",
    "service_name",
    "app",
    "node",
    "route",
    "path",
    "status",
    "code",
    "method",
    "host",
    "source",
    "topic",
    "queue",
    "consumergroup",
    "le",
)
# Words that are never a service name on their own.
STOP = set(
    """
    a an the my our your their this that these those it its there here we you they i me us all any some every
    each what which who whom why how when where is are was were be been being do does did done has have had
    having can could should would will may might must not no yes and or but if then than so too very just
    also only still again now ever error errors logs log latency alerts alert metrics metric status code codes
    problems problem issues issue trouble incident outage things everything something anything
    site website system systems app application service services stack platform server servers
    infra infrastructure cluster k8s kubernetes data today yesterday morning afternoon evening night
    week day hour minute last past since between around about at on in of for with from to by per over
    going happening happened wrong down up slow broken working work fine ok okay stop stopped fail failed
    failing request requests traffic page pages checkout-page new old current recent latest top most usage
    cpu memory disk network lag queue queues connections restarts throughput p95 p99 p50 5xx 4xx http https
    deploy deployed deployment deployments release releases pod pods namespace namespaces container job jobs
    sitrep grafana loki prometheus amplitude slack github vercel aws gcp azure time times rate agent agents
    user users dashboard dashboards overnight lately recently something anything show list find grep get give
    display graph plot tell search count check see look many much more less high low big small bad weird odd
    whats what's recent other same last next first new these latest troubleshoot investigate debug
    january february march april may june july august september october november december monday tuesday
    wednesday thursday friday saturday sunday noon midnight tonight week weekend hours minutes days weeks
    level severity summary
    """.split()
)
_NAME = r"([a-z0-9][a-z0-9_.-]*[a-z0-9]|[a-z0-9]{2,})"
_KIND_WORD = "|".join(sorted(KINDS, key=len, reverse=True))
_NAME_PATTERNS = [
    # "the api-server service", "checkout app", "robusta-runner pod"
    re.compile(rf"\b{_NAME}\s+(?P<kind>{_KIND_WORD})\b"),
    # "service api-server", "pod checkout-7d9f", "namespace payments", "deployment api"
    re.compile(rf"\b(?P<kind>{_KIND_WORD})\s+(?:named\s+|called\s+)?[\"'`]?{_NAME}"),
    # "issues with the scheduler", "problems in checkout", "logs of checkout", "errors from payments"
    re.compile(
        rf"\b(?:issues?|problems?|trouble|errors?|logs?|lines?|latency|failures?|failing|outage|incidents?|wrong|"
        rf"going on|happening|happened|cause|5xx|4xx|\d{{3}}s?|status codes?|restarts?|memory|cpu|health|off|up|"
        rf"connections?|lag|queue|traffic|throughput|requests|usage|metrics?)\s+"
        rf"(?:with|in|on|of|for|from|at|to)\s+(?:the\s+|my\s+|our\s+)?{_NAME}"
    ),
    # "why did the front-end stop", "is the scheduler down", "was checkout slow"
    re.compile(
        rf"\b(?:did|does|do|is|was|were|are|has|had|have|why|'s)\s+(?:the\s+|my\s+|our\s+)?{_NAME}\s+"
        r"(?:stop|stopped|fail|failed|failing|break|broke|broken|crash|crashed|crashing|go down|went down|down|"
        r"slow|error|erroring|have|had|has|having|working|misbehav|flak|restart|time out|timing out|throw|"
        r"return|hav|use|uses|using|consume|need|look|doing)"
    ),
    # "checkout had problems", "api-server has issues", "payments is throwing 500s"
    re.compile(rf"^(?:so\s+|hey\s+|ok\s+)?(?:the\s+|my\s+|our\s+)?{_NAME}\s+(?:had|has|have|is|was|keeps|seems)\b"),
    # "troubleshoot the scheduler", "investigate checkout", "look into payments-api"
    re.compile(rf"\b(?:troubleshoot|investigate|debug|check on|look at|look into|diagnose)\s+(?:the\s+)?{_NAME}"),
    # "checkout errors", "api-server logs", "frontend latency"
    re.compile(rf"\b{_NAME}\s+(?:errors?|logs?|latency|5xx|4xx|alerts?|restarts?|outage|incident)\b"),
    # "error rate for the frontend", "log lines with 'payment declined' from checkout" (a name ending the question)
    re.compile(rf"\b(?:from|for|of|in|on|with|about)\s+(?:the\s+|my\s+|our\s+)?{_NAME}\s*[?.!]*$"),
    # "memory usage of robusta-runner", "cpu of api"
    re.compile(rf"\b(?:usage|consumption|utili[sz]ation)\s+(?:of|for|by|in)\s+(?:the\s+)?{_NAME}"),
]
_CODE = re.compile(
    r"(?<![\w./:-])([1-5]\d\d|[1-5]xx)s?(?![\w%:.]|\s*(?:ms|milliseconds?|seconds?|secs?|minutes?|mins?|hours?|"
    r"lines?|rows?|events?|requests?/s|%|percent|days?))",
    re.IGNORECASE,
)
_PATH = re.compile(r"(?:(?<=\s)|^|(?<=[(\"'`]))(/[A-Za-z0-9_\-.~%{}:/]*[A-Za-z0-9_\-~%}])")
_QUOTED = re.compile(r"\"([^\"]{2,80})\"|“([^”]{2,80})”|(?<![\w'])'([^']{2,80})'(?![\w'])|`([^`]{1,300})`")
_GROUP = re.compile(
    r"\b(?:per|by|for each|each|across|which|broken down by|grouped by|split by)\s+"
    rf"({'|'.join(GROUP_LABELS)})(?:e?s)?\b"
)
_LABEL_EQ = re.compile(r"\b([a-z_][a-z0-9_]*)\s*=~?\s*(?:\"([^\"]+)\"|([a-z0-9][\w.-]*))", re.IGNORECASE)
_ENDPOINT = re.compile(r"\b(?:the\s+)?([a-z][\w-]*)\s+(?:endpoint|route|handler)s?\b")
IMPLICIT_TERMS = (("timeout", r"\btime ?outs?\b|\btimed out\b"), ("connection refused", r"\bconnection refused\b"))
_METRIC_NAME = re.compile(r"^[A-Za-z_:][A-Za-z0-9_:]*$")
_PROMQL_HINT = re.compile(r"[({\[]|\b(?:rate|sum|avg|max|min|histogram_quantile|increase|irate|topk|count)\b")
EXTERNAL = [
    (re.compile(r"\baws\s+([a-z][\w-]*)|\b(lambda|rds|dynamodb|sqs|sns|ec2|ecs|eks|s3|cloudfront|kinesis)\b"), "AWS"),
    (re.compile(r"\b(?:gcp|google cloud)\s+([a-z][\w-]*)|\b(bigquery|cloud run|cloud sql|gke|pub/?sub)\b"), "GCP"),
    (re.compile(r"\bazure\s+([a-z][\w-]*)|\b(cosmos ?db|aks)\b"), "Azure"),
    (re.compile(r"\b(cloudflare|datadog|new relic|heroku|snowflake|supabase|firebase|mongodb atlas)\b"), ""),
]
_AWS_CONTEXT = re.compile(r"\baws\b|\bamazon\b|\bcloudwatch\b")


@dataclass(frozen=True)
class Subject:
    names: tuple[str, ...] = ()  # candidate names of a service, app, pod, namespace…
    kind: str | None = None  # the kind word the question used: service, pod, namespace…
    codes: tuple[str, ...] = ()  # "503", "5xx"
    paths: tuple[str, ...] = ()  # "/orders"
    terms: tuple[str, ...] = ()  # quoted search terms
    promql: str | None = None  # a metric name or PromQL in backticks
    group_by: str | None = None  # "per namespace" -> "namespace"
    external: str | None = None  # "AWS Lambda": a system none of the integrations covers
    ranking: bool = False  # "the most", "top", "highest": a breakdown, not one total

    @property
    def filters(self) -> bool:
        return bool(self.codes or self.paths or self.terms)

    @property
    def empty(self) -> bool:
        return not (self.names or self.filters or self.promql or self.external)


def subject_of(text: str) -> Subject:
    """The names, codes, paths, quoted terms, backticked PromQL, grouping and outside system a question names."""
    raw = " ".join(text.replace("’", "'").split())
    names: list[str] = []
    kind = None
    for m in _LABEL_EQ.finditer(re.sub(r"`[^`]*`", " ", raw)):  # service_name=checkout, app="api-server"
        names.append(m.group(2) or m.group(3))
        kind = kind or m.group(1)
        raw = raw.replace(m.group(0), " ")
    terms: list[str] = []
    promql = None
    for m in _QUOTED.finditer(raw):
        if m.group(4) is not None:
            inner = m.group(4).strip()
            if (_METRIC_NAME.match(inner) and ("_" in inner or ":" in inner)) or _PROMQL_HINT.search(inner):
                promql = promql or inner
                continue
            terms.append(inner)
        else:
            terms.append(next(g for g in m.groups()[:3] if g is not None).strip())
    bare = _QUOTED.sub(" ", raw)
    paths = [m.group(1) for m in _PATH.finditer(bare) if len(m.group(1)) > 1]
    paths += [f"/{m.group(1)}" for m in _ENDPOINT.finditer(bare.lower()) if m.group(1) not in STOP]
    bare = _ENDPOINT.sub(" ", bare.lower())
    low = bare.lower()
    no_paths = _PATH.sub(" ", low)
    codes = tuple(dict.fromkeys(m.group(1).lower() for m in _CODE.finditer(no_paths)))
    terms += [word for word, pattern in IMPLICIT_TERMS if re.search(pattern, no_paths)]
    for pattern in _NAME_PATTERNS:
        for m in pattern.finditer(no_paths):
            name = m.group(1) if "kind" not in pattern.groupindex or m.start(1) < m.start("kind") else m.group(2)
            name = name.strip(".-_")
            if _is_name(name):
                names.append(name)
                if "kind" in pattern.groupindex:
                    kind = kind or m.group("kind")
    for token in re.findall(r"\b[a-z0-9]+(?:-[a-z0-9]+)+\b", no_paths):  # hyphenated words name things
        if _is_name(token) and not re.fullmatch(r"[\d-]+|\d+[a-z]?-.*|.*-(?:\d+[mhdw]?)", token):
            names.append(token)
    group = _GROUP.search(low)
    return Subject(
        names=tuple(dict.fromkeys(names)),
        kind=kind,
        codes=codes,
        paths=tuple(dict.fromkeys(paths)),
        terms=tuple(dict.fromkeys(terms)),
        promql=promql,
        group_by=group.group(1) if group else None,
        external=external_of(low),
        ranking=bool(re.search(r"\b(?:most|top|highest|biggest|largest|heaviest|worst)\b", low)),
    )


def _is_name(name: str) -> bool:
    return (
        len(name) >= 2
        and name not in STOP
        and not re.fullmatch(r"\d+(?:\.\d+)?[a-z]{0,3}|[1-5]xx|\d{1,2}:\d{2}", name)
        and name.rstrip("s") not in STOP
        and not (name.endswith("ed") and "-" not in name and len(name) > 4)
    )


def external_of(text: str) -> str | None:
    """ "AWS Lambda", "Datadog": a system named in the question that sitrep has no integration for."""
    for pattern, vendor in EXTERNAL:
        m = pattern.search(text)
        if not m:
            continue
        product = next((g for g in m.groups() if g), "")
        if vendor == "AWS" and m.group(2) == "lambda" and not _AWS_CONTEXT.search(text):
            continue  # "lambda" alone is also Vercel's serverless functions (source=lambda)
        if vendor == "AWS" and m.group(2) == "s3" and not _AWS_CONTEXT.search(text) and "bucket" not in text:
            continue
        named = {"dynamodb": "DynamoDB", "bigquery": "BigQuery", "cloudfront": "CloudFront", "cosmos db": "Cosmos DB"}
        product = named.get(product) or (product.upper() if len(product) <= 3 else product.title())
        return f"{vendor} {product}".strip() if vendor and product.lower() != vendor.lower() else product or vendor
    return None


def line_filters(subject: Subject) -> list[str]:
    """LogQL line filters for the codes, paths and terms (backtick strings: no escaping of backslashes)."""
    out = []
    for code in subject.codes:
        pattern = code.replace("xx", r"\d\d") if code.endswith("xx") else code
        out.append(f"|~ `\\b{pattern}\\b`")
    for path in subject.paths:
        out.append(f"|= `{path.replace('`', '')}`")
    for term in subject.terms:
        out.append(f"|~ `(?i){_re_escape(term.replace('`', ''))}`")
    return out


def _re_escape(text: str) -> str:
    return re.sub(r"([\\.+*?()|\[\]{}^$])", r"\\\1", text)


def describe_filters(subject: Subject) -> str:
    """'with 503, /orders and "query failed"' for a scope line; '' without filters."""
    parts = [*subject.codes, *subject.paths, *(f'"{t}"' for t in subject.terms)]
    if not parts:
        return ""
    return "with " + (", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else parts[0])
