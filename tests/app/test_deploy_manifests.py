"""deploy/kubernetes and compose.yaml: valid against the Kubernetes schemas (kubernetes-validate, offline, strict),
hardened as docs/deploy.md says, every variable they set a real setting of settings.py, and every probe path and
port one the app serves."""

from __future__ import annotations

import posixpath
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from agent.services import Services
from bot.runtime import Runtime
from bot.web import build_web_app
from settings import Settings
from tests.support.dockerfile import exec_form, stages
from tests.support.environment import ROOT

KUBERNETES = ROOT / "deploy" / "kubernetes"
VARIANTS = ["sqlite", "postgresql"]
# The oldest Kubernetes minor still maintained upstream when this was written, and the newest the package ships.
K8S_VERSIONS = ["1.31.0", kubernetes_validate.utils.latest_version()]
KUSTOMIZATION_KEYS = {"apiVersion", "kind", "resources", "images"}  # what render() below applies, nothing else
SETTINGS = {str(info.validation_alias) for info in Settings.model_fields.values()}


def render(directory: Path) -> list[dict[str, Any]]:
    """`kubectl kustomize directory` for the features these kustomizations use: resources (files and other
    kustomizations) and image names/tags. Anything else fails here, so this never drifts from kustomize."""
    kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text())
    assert set(kustomization) <= KUSTOMIZATION_KEYS, f"{directory}: render() does not apply {set(kustomization)}"
    assert kustomization["kind"] == "Kustomization"
    resources: list[dict[str, Any]] = []
    for entry in kustomization["resources"]:
        path = (directory / entry).resolve()
        if path.is_dir():
            resources += render(path)
        else:
            resources += [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
    for image in kustomization.get("images", []):
        for resource in resources:
            for container in containers(resource):
                if container["image"].split(":")[0] == image["name"]:
                    container["image"] = f"{image.get('newName', image['name'])}:{image.get('newTag', 'latest')}"
    return resources


def containers(resource: dict[str, Any]) -> list[dict[str, Any]]:
    if resource["kind"] != "Deployment":
        return []
    return list(resource["spec"]["template"]["spec"]["containers"])


def one(resources: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    (found,) = [r for r in resources if r["kind"] == kind]
    return found


@pytest.fixture
async def served_paths(services: Services) -> set[str]:
    """Every GET path the web server routes."""
    app = build_web_app(Runtime(services))
    return {
        route.resource.canonical
        for route in app.router.routes()
        if route.method == "GET" and route.resource is not None
    }


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("version", K8S_VERSIONS)
def test_every_resource_validates_against_the_kubernetes_schemas(variant: str, version: str) -> None:
    for resource in render(KUBERNETES / variant):
        kubernetes_validate.validate(resource, version, strict=True)


def test_the_validator_rejects_a_misspelled_field() -> None:
    """Strict validation bites: an unknown field (a probe that would silently not exist) is an error."""
    deployment = one(render(KUBERNETES / "sqlite"), "Deployment")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    container["readinesProbe"] = container.pop("readinessProbe")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, K8S_VERSIONS[-1], strict=True)


@pytest.mark.parametrize("variant", VARIANTS)
def test_the_pod_runs_hardened(variant: str) -> None:
    deployment = one(render(KUBERNETES / variant), "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    image_user = stages()[1][-1].last("USER")
    assert pod["automountServiceAccountToken"] is False
    assert pod["enableServiceLinks"] is False  # a Service named sitrep would set SITREP_PORT, SITREP_SERVICE_HOST...
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert f"{pod['securityContext']['runAsUser']}:{pod['securityContext']['runAsGroup']}" == image_user
    (container,) = pod["containers"]
    security = container["securityContext"]
    assert security["readOnlyRootFilesystem"] is True and security["allowPrivilegeEscalation"] is False
    assert security["capabilities"] == {"drop": ["ALL"]}
    assert {"cpu", "memory"} <= set(container["resources"]["requests"]) and "memory" in container["resources"]["limits"]
    assert container["envFrom"] == [{"secretRef": {"name": "sitrep"}}]  # an existing Secret, by name


def test_sqlite_is_one_replica_on_its_claim_holding_the_database_and_key() -> None:
    resources = render(KUBERNETES / "sqlite")
    deployment = one(resources, "Deployment")
    claim = one(resources, "PersistentVolumeClaim")
    assert deployment["spec"]["replicas"] == 1 and deployment["spec"]["strategy"] == {"type": "Recreate"}
    pod = deployment["spec"]["template"]["spec"]
    (volume,) = pod["volumes"]
    assert volume["persistentVolumeClaim"]["claimName"] == claim["metadata"]["name"]
    (mount,) = pod["containers"][0]["volumeMounts"]
    env = {e["name"]: e.get("value") for e in pod["containers"][0]["env"]}
    assert mount["name"] == volume["name"]
    assert posixpath.dirname(env["SITREP_DB"]) == mount["mountPath"]  # the key is generated beside the file
    assert pod["securityContext"]["fsGroup"] == pod["securityContext"]["runAsGroup"]


def test_postgresql_is_two_replicas_with_the_url_and_key_from_the_secret() -> None:
    resources = render(KUBERNETES / "postgresql")
    deployment = one(resources, "Deployment")
    assert deployment["spec"]["replicas"] == 2
    assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    env = {e["name"]: e for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]}
    for name in ("SITREP_DB", "SITREP_SECRET_KEY"):
        assert env[name]["valueFrom"]["secretKeyRef"] == {"name": "sitrep", "key": name}
    assert "volumes" not in deployment["spec"]["template"]["spec"]  # nothing is written to disk
    assert one(resources, "PodDisruptionBudget")["spec"]["minAvailable"] == 1


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_variable_set_is_a_setting(variant: str) -> None:
    for container in containers(one(render(KUBERNETES / variant), "Deployment")):
        for entry in container["env"]:
            assert entry["name"] in SETTINGS, f"{variant}: {entry['name']} is not a setting of settings.py"
            key = entry.get("valueFrom", {}).get("secretKeyRef", {}).get("key")
            assert key in (None, entry["name"])


@pytest.mark.parametrize("variant", VARIANTS)
async def test_probes_and_service_reach_routes_the_app_serves(variant: str, served_paths: set[str]) -> None:
    resources = render(KUBERNETES / variant)
    (container,) = containers(one(resources, "Deployment"))
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert ports["http"] == int(env["SITREP_HTTP_PORT"]) and env["SITREP_HTTP_HOST"] == "0.0.0.0"
    probes = {kind: container[kind]["httpGet"] for kind in ("startupProbe", "livenessProbe", "readinessProbe")}
    assert probes["readinessProbe"]["path"] == "/readyz"
    assert probes["livenessProbe"]["path"] == probes["startupProbe"]["path"] == "/healthz"
    for probe in probes.values():
        assert probe["path"] in served_paths and probe["port"] in ports
    service = one(resources, "Service")
    assert (
        service["spec"]["selector"].items()
        <= one(resources, "Deployment")["spec"]["template"]["metadata"]["labels"].items()
    )
    assert {p["targetPort"] for p in service["spec"]["ports"]} <= set(ports)


async def test_the_service_monitor_scrapes_metrics_through_the_service(served_paths: set[str]) -> None:
    """The Prometheus Operator's CRD has no schema in kubernetes-validate: checked here against the Service."""
    (monitor,) = render(KUBERNETES / "monitoring")
    service = one(render(KUBERNETES / "base"), "Service")
    assert (monitor["apiVersion"], monitor["kind"]) == ("monitoring.coreos.com/v1", "ServiceMonitor")
    assert set(monitor) == {"apiVersion", "kind", "metadata", "spec"}
    assert monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    (endpoint,) = monitor["spec"]["endpoints"]
    assert endpoint["port"] in {p["name"] for p in service["spec"]["ports"]}
    assert endpoint["path"] == "/metrics" and "/metrics" in served_paths


def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def test_compose_runs_two_replicas_built_from_the_dockerfile_on_postgresql() -> None:
    services = compose()["services"]
    sitrep, db = services["sitrep"], services["db"]
    assert sitrep["build"] == "." and sitrep["deploy"]["replicas"] == 2
    assert sitrep["env_file"] == ".env"  # the secrets, never this file
    assert sitrep["environment"]["SITREP_DB"].startswith("postgresql://sitrep:${POSTGRES_PASSWORD")
    assert sitrep["environment"]["SITREP_DB"].endswith("@db:5432/sitrep")
    assert sitrep["depends_on"]["db"]["condition"] == "service_healthy" and "healthcheck" in db
    assert sitrep["read_only"] is True and sitrep["cap_drop"] == ["ALL"]
    published, _, target = sitrep["ports"][0].rpartition(":")
    assert target == sitrep["environment"]["SITREP_HTTP_PORT"] and published.count("-") == 1  # one per replica


def test_compose_sets_only_real_settings() -> None:
    environment = compose()["services"]["sitrep"]["environment"]
    assert set(environment) <= SETTINGS, set(environment) - SETTINGS
    assert environment["SITREP_HTTP_HOST"] == "0.0.0.0"


def test_the_manifests_run_the_image_as_built() -> None:
    """The same user, port and data directory as the Dockerfile's."""
    final = stages()[1][-1]
    (volume,) = exec_form(final.last("VOLUME"))
    sqlite = one(render(KUBERNETES / "sqlite"), "Deployment")["spec"]["template"]["spec"]
    assert sqlite["containers"][0]["volumeMounts"][0]["mountPath"] == volume
    assert str(sqlite["containers"][0]["ports"][0]["containerPort"]) == final.env["SITREP_HTTP_PORT"]
