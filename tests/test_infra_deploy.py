"""deploy/: the compose file and the Kubernetes manifests are valid and safe by default.

Docker cannot run on these machines, so the files are validated, not run:
`docker compose config` (the Compose v2 binary `make deploy-tools` fetches) and the
Kubernetes 1.30 JSON schemas bundled in kubernetes-validate. Both also run in
`make deploy-check`; here they are skipped, with the reason, until those tools are
fetched. The structural checks below need nothing and always run.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
from typing import Dict, List

import pytest
import yaml

from infra.settings import load_settings
from tests.support.servers import ROOT

DEPLOY = ROOT / "deploy"
COMPOSE_BIN = ROOT / "build" / "docker" / "cli-plugins" / "docker-compose"
K8S_VALIDATE = ROOT / "build" / "tools" / "k8s" / "bin" / "kubernetes-validate"
SECRETS = (
    "RASA_API_TOKEN",
    "POSTGRES_PASSWORD",
    "REDIS_PASSWORD",
    "CONSOLE_SECRET_KEY",
)


def compose_file() -> dict:
    return yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())


def manifests() -> List[dict]:
    documents = []
    for path in sorted((DEPLOY / "k8s").glob("*.yaml")):
        documents += [d for d in yaml.safe_load_all(path.read_text()) if d]
    return documents


def containers(kind_name: str) -> List[dict]:
    for doc in manifests():
        if doc["kind"] == "Deployment" and doc["metadata"]["name"] == kind_name:
            return doc["spec"]["template"]["spec"]["containers"]
    raise AssertionError(f"no Deployment {kind_name}")


def env_of(container: dict) -> Dict[str, dict]:
    return {item["name"]: item for item in container.get("env", [])}


# ---------------------------------------------------------------- compose


def run_compose(*args: str, env_file: bool = True) -> subprocess.CompletedProcess:
    if not COMPOSE_BIN.exists():
        pytest.skip("the compose binary is fetched by `make deploy-tools`")
    command = [str(COMPOSE_BIN), "-f", str(DEPLOY / "docker-compose.yml")]
    if env_file:
        command += ["--env-file", str(DEPLOY / "example.env")]
    clean_env = {
        k: v for k, v in os.environ.items() if k not in SECRETS + ("PUBLIC_ORIGIN",)
    }
    return subprocess.run(
        command + list(args), capture_output=True, text=True, env=clean_env, timeout=60
    )


def test_docker_compose_config_accepts_the_file():
    result = run_compose("config", "--format", "json")
    assert result.returncode == 0, result.stderr
    import json

    services = json.loads(result.stdout)["services"]
    assert {
        "rasa-1",
        "rasa-2",
        "actions",
        "postgres",
        "redis",
        "console",
        "gateway",
    } <= set(services)


def test_compose_refuses_to_start_without_the_secrets():
    result = run_compose("config", "-q", env_file=False)
    assert result.returncode != 0
    assert "is missing a value" in result.stderr


def test_compose_uses_the_official_images():
    assert re.search(
        r"^FROM rasa/rasa:3\.6\.21$", (DEPLOY / "Dockerfile.rasa").read_text(), re.M
    )
    assert re.search(
        r"^FROM rasa/rasa-sdk:3\.6\.2$",
        (DEPLOY / "Dockerfile.actions").read_text(),
        re.M,
    )
    services = compose_file()["services"]
    assert services["rasa-1"]["build"]["dockerfile"] == "deploy/Dockerfile.rasa"
    assert services["actions"]["build"]["dockerfile"] == "deploy/Dockerfile.actions"
    assert services["postgres"]["image"].startswith("postgres:")
    assert services["redis"]["image"].startswith("redis:")
    console = services["console"]
    assert console["build"]["dockerfile"] == "deploy/Dockerfile.console"
    dockerfile = (DEPLOY / "Dockerfile.console").read_text()
    assert 'ENTRYPOINT ["python", "-m", "console"]' in dockerfile
    assert 'CMD ["serve", "--host", "0.0.0.0", "--port", "8081"]' in dockerfile


def test_compose_has_no_default_secrets_and_keeps_rasa_private():
    text = (DEPLOY / "docker-compose.yml").read_text()
    for name in SECRETS + ("PUBLIC_ORIGIN",):
        uses = re.findall(r"\$\{" + name + r"([^}]*)\}", text)
        assert uses, name
        assert all(
            use.startswith(":?") for use in uses
        ), f"{name} has a default: {uses}"
    services = compose_file()["services"]
    for name in ("rasa-1", "rasa-2", "actions", "postgres", "redis"):
        assert "ports" not in services[name], f"{name} is published"
    # The console is for staff: on the host's loopback only.
    assert all(p.startswith("127.0.0.1:") for p in services["console"]["ports"])
    command = services["rasa-1"]["command"]
    token = command[command.index("--auth-token") + 1]
    assert token.startswith("${RASA_API_TOKEN:?")
    origin = command[command.index("--cors") + 1]
    assert origin.startswith("${PUBLIC_ORIGIN:?") and "*" not in origin
    assert services["rasa-1"]["environment"]["WIDGET_ALLOWED_ORIGINS"].startswith(
        "${PUBLIC_ORIGIN:?"
    )


def test_the_gateway_routes_only_the_chat_channels():
    conf = (DEPLOY / "nginx.conf").read_text()
    locations = re.findall(r"^\s*location\s+(.+?)\s*\{", conf, re.M)
    assert locations == ["= /webhooks/rest/webhook", "/socket.io/", "/"]
    catch_all = conf[conf.index("location / {") :]
    assert "return 404" in catch_all.split("}")[0]


def test_compose_readiness_waits_for_the_loaded_model():
    check = compose_file()["services"]["rasa-1"]["healthcheck"]
    assert any("/webhooks/health/ready" in part for part in check["test"])
    gateway = compose_file()["services"]["gateway"]["depends_on"]
    assert gateway["rasa-1"]["condition"] == "service_healthy"


# ---------------------------------------------------------------- Kubernetes


def test_kubernetes_manifests_match_the_1_30_schemas():
    if not K8S_VALIDATE.exists():
        pytest.skip("kubernetes-validate is installed by `make deploy-tools`")
    files = [str(p) for p in sorted((DEPLOY / "k8s").glob("*.yaml"))]
    result = subprocess.run(
        [str(K8S_VALIDATE), "-k", "1.30.0", "--strict", *files],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_can_fail(tmp_path):
    if not K8S_VALIDATE.exists():
        pytest.skip("kubernetes-validate is installed by `make deploy-tools`")
    broken = tmp_path / "broken.yaml"
    text = (
        (DEPLOY / "k8s" / "rasa.yaml")
        .read_text()
        .replace("readinessProbe:", "readynessProbe:")
    )
    broken.write_text(text)
    result = subprocess.run(
        [str(K8S_VALIDATE), "-k", "1.30.0", "--strict", str(broken)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0 and "readynessProbe" in result.stdout + result.stderr


def test_every_manifest_has_the_required_fields():
    for doc in manifests():
        assert doc.get("apiVersion") and doc.get("kind"), doc
        assert doc["metadata"].get("name"), doc
        if doc["kind"] == "Deployment":
            spec = doc["spec"]
            labels = spec["template"]["metadata"]["labels"]
            assert all(
                labels.get(k) == v for k, v in spec["selector"]["matchLabels"].items()
            )
            pod = spec["template"]["spec"]
            assert pod["securityContext"]["runAsNonRoot"] is True
            assert pod["automountServiceAccountToken"] is False
            for container in pod["containers"]:
                assert container["securityContext"]["allowPrivilegeEscalation"] is False
                assert container["securityContext"]["readOnlyRootFilesystem"] is True
                assert container["resources"]["limits"]["memory"]
                assert container.get("readinessProbe"), container["name"]


def test_rasa_is_ready_only_after_the_warm_up_and_stays_inside_the_cluster():
    (rasa,) = containers("rasa")
    assert rasa["readinessProbe"]["httpGet"]["path"] == "/webhooks/health/ready"
    assert (
        rasa["startupProbe"]["failureThreshold"] * rasa["startupProbe"]["periodSeconds"]
        >= 300
    )
    args = rasa["args"]
    assert args[args.index("--auth-token") + 1] == "$(RASA_API_TOKEN)"
    services = {d["metadata"]["name"]: d for d in manifests() if d["kind"] == "Service"}
    assert all(
        s["spec"].get("type", "ClusterIP") == "ClusterIP" for s in services.values()
    )
    (ingress,) = [d for d in manifests() if d["kind"] == "Ingress"]
    paths = [
        p["path"] for rule in ingress["spec"]["rules"] for p in rule["http"]["paths"]
    ]
    assert paths == ["/webhooks/rest/webhook", "/socket.io"]
    assert ingress["spec"]["tls"]


def test_secrets_come_from_a_secret_never_from_the_manifests():
    for name in ("rasa", "actions", "console"):
        for container in containers(name):
            for variable, item in env_of(container).items():
                if (
                    re.search(r"TOKEN|PASSWORD|SECRET|_URL$", variable)
                    and variable != "ACTION_SERVER_URL"
                ):
                    assert "secretKeyRef" in item.get(
                        "valueFrom", {}
                    ), f"{name}: {variable}"
    assert not [
        d for d in manifests() if d["kind"] == "Secret"
    ], "a Secret with values is shipped"


def test_the_deployed_action_timeout_is_below_the_lock_lifetime():
    (rasa,) = containers("rasa")
    k8s = {k: v["value"] for k, v in env_of(rasa).items() if "value" in v}
    compose = compose_file()["services"]["rasa-1"]["environment"]
    for env in (k8s, compose):
        settings = load_settings(
            {
                k: str(v)
                for k, v in env.items()
                if k in ("ACTION_TIMEOUT", "TICKET_LOCK_LIFETIME")
            }
        )
        assert settings.action_timeout_seconds < settings.lock_lifetime_seconds


def test_endpoints_yml_takes_everything_from_the_environment(monkeypatch):
    from rasa.core.utils import AvailableEndpoints
    from rasa.shared.exceptions import RasaException

    monkeypatch.setenv("ACTION_SERVER_URL", "http://actions:5055/webhook")
    endpoints = AvailableEndpoints.read_endpoints(str(ROOT / "endpoints.yml"))
    assert endpoints.action.url == "http://actions:5055/webhook"
    assert endpoints.tracker_store.type == "infra.tracker_store.EnvTrackerStore"
    assert endpoints.lock_store.type == "infra.lock_store.EnvLockStore"
    monkeypatch.delenv("ACTION_SERVER_URL")
    with pytest.raises(RasaException, match="ACTION_SERVER_URL"):
        AvailableEndpoints.read_endpoints(str(ROOT / "endpoints.yml"))


# ---------------------------------------------------------------- images


def _project_packages() -> set:
    return {p.parent.name for p in ROOT.glob("*/__init__.py")}


def _imported_packages(package: str, known: set) -> set:
    """The project's top-level packages that ``package``'s modules import."""
    found = set()
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            found |= {name.split(".")[0] for name in names} & known
    return found


@pytest.mark.parametrize("dockerfile", sorted(DEPLOY.glob("Dockerfile.*")), ids=lambda p: p.name)
def test_every_image_copies_the_packages_its_code_imports(dockerfile):
    # Docker cannot build here, so an image missing a package would only fail on the
    # day it is deployed; the package import graph says what each image needs.
    known = _project_packages()
    copied = set(re.findall(r"^COPY\s+(\w+)/\s", dockerfile.read_text(), re.MULTILINE)) & known
    assert copied, f"{dockerfile.name} copies none of the project's packages"
    needed, todo = set(copied), list(copied)
    while todo:
        for package in _imported_packages(todo.pop(), known) - needed:
            needed.add(package)
            todo.append(package)
    assert needed - copied == set(), f"{dockerfile.name} must also COPY {sorted(needed - copied)}"
