"""The container image: a pinned slim Python base, runtime dependencies only, a non-root numeric
user, and the Deployment's probes (not a HEALTHCHECK) as its health story.

Read from the Dockerfile itself, so it holds where no container engine is installed.
"""

from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n", " ", (REPO / "Dockerfile").read_text())
    found = []
    for raw in joined.splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            found.append((keyword.upper(), rest.strip()))
    return found


def final_stage() -> list[tuple[str, str]]:
    steps = instructions()
    last_from = max(i for i, (keyword, _) in enumerate(steps) if keyword == "FROM")
    return steps[last_from:]


def arguments(keyword: str, steps: list[tuple[str, str]] | None = None) -> list[str]:
    return [rest for kw, rest in (steps or instructions()) if kw == keyword]


def manager_container() -> dict[str, Any]:
    deployment = yaml.safe_load((REPO / "config" / "manager" / "manager.yaml").read_text())
    containers = deployment["spec"]["template"]["spec"]["containers"]
    assert [c["name"] for c in containers] == ["manager"]
    return dict(containers[0])


def test_the_base_is_a_slim_python_pinned_to_a_full_version_and_can_be_overridden() -> None:
    (declaration,) = [a for a in arguments("ARG") if a.startswith("BASE_IMAGE=")]
    base = declaration.removeprefix("BASE_IMAGE=")
    match = re.fullmatch(r"(docker\.io/library/)?python:(\d+)\.(\d+)\.(\d+)-slim(-\w+)?", base)
    assert match, base
    requires = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["requires-python"]
    assert (int(match[2]), int(match[3])) >= tuple(int(n) for n in requires[2:].split("."))
    assert [f.split()[0] for f in arguments("FROM")] == ["${BASE_IMAGE}", "${BASE_IMAGE}"]


def test_only_the_runtime_dependencies_are_installed() -> None:
    installs = [run for run in arguments("RUN") if "pip install" in run]
    assert installs, "the package is installed with pip"
    for run in installs:
        words = shlex.split(run)
        assert words[words.index("install") + 1 :][-1] == ".", run
        assert "[" not in run, f"no extras in the image: {run}"


def test_it_runs_as_the_non_root_numeric_user_of_the_deployment() -> None:
    (user,) = arguments("USER", final_stage())
    uid, gid = (int(part) for part in user.split(":"))
    pod = yaml.safe_load((REPO / "config" / "manager" / "manager.yaml").read_text())
    security = pod["spec"]["template"]["spec"]["securityContext"]
    assert uid != 0
    assert gid != 0
    assert (uid, gid) == (security["runAsUser"], security["runAsGroup"])
    assert security["runAsNonRoot"] is True


def test_health_is_the_deployments_probes_on_the_exposed_probe_port() -> None:
    assert arguments("HEALTHCHECK") == []
    container = manager_container()
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    exposed = {int(port) for run in arguments("EXPOSE") for port in run.split()}
    assert set(ports.values()) <= exposed
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "probes"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "probes"}
    assert f"--health-probe-bind-address=:{ports['probes']}" in container["args"]
    assert f"--metrics-bind-address=:{ports['metrics']}" in container["args"]


def test_the_entrypoint_is_the_fluidpy_command_and_the_deployment_runs_its_manager() -> None:
    (entrypoint,) = arguments("ENTRYPOINT", final_stage())
    assert yaml.safe_load(entrypoint) == ["fluidpy"]
    (command,) = arguments("CMD", final_stage())
    assert yaml.safe_load(command)[0] == "manager"
    assert manager_container()["args"][0] == "manager"
