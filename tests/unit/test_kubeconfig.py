"""How a process reaches its API server: what it reads from a kubeconfig or a pod's service
account, how it proves who it is (tokens, certificates, exec plugins), and how it gets fresh
credentials when they expire, rotate or are refused.

Requests go to a loopback server standing in for the API server (plain HTTP, or TLS with a
certificate authority made for the test), so every claim is checked on the wire.
"""

from __future__ import annotations

import base64
import json
import os
import ssl
import sys
import textwrap
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
import yaml

from fluidpy.client import ApiError, TransportError
from fluidpy.client.config import (
    KubeconfigError,
    in_cluster_connection,
    kubeconfig_connection,
    load_connection,
)
from fluidpy.client.connection import ApiServerConnection, TLSFiles
from fluidpy.client.credentials import CredentialsError, TokenFile
from fluidpy.client.execcredential import ExecPlugin, ExecPluginSpec
from fluidpy.client.transport import Transport
from fluidpy.testing._pki import PKIFiles, write_pki

V1 = "client.authentication.k8s.io/v1"
V1BETA1 = "client.authentication.k8s.io/v1beta1"


# A loopback API server (tests/unit/conftest.py)


@dataclass
class Server:
    url: str
    authorizations: list[str | None] = field(default_factory=list)
    user_agents: list[str | None] = field(default_factory=list)


StartServer = Callable[..., Server]


@pytest.fixture
def api_server(loopback_server: Callable[..., str]) -> StartServer:
    """`api_server(refuse=..., pki=..., client_certificates=...)`: a server answering every GET
    with 200, or 401 when `refuse(Authorization header)`. With `pki`, over TLS with the PKI's
    API server certificate (valid for 127.0.0.1 and kubernetes.default), and with
    `client_certificates` only for clients presenting a certificate of the PKI's CA."""

    def start(
        *,
        refuse: Callable[[str | None], bool] = lambda _: False,
        pki: PKIFiles | None = None,
        client_certificates: bool = False,
    ) -> Server:
        server = Server("")

        def answer(path: str, headers: Mapping[str, str]) -> tuple[int, Any]:
            authorization = headers.get("Authorization")
            server.authorizations.append(authorization)
            server.user_agents.append(headers.get("User-Agent"))
            code = 401 if refuse(authorization) else 200
            return code, {"kind": "Status", "code": code}

        tls = None
        if pki is not None:
            tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            tls.load_cert_chain(pki.apiserver_cert, pki.apiserver_key)
            if client_certificates:
                tls.verify_mode = ssl.CERT_REQUIRED
                tls.load_verify_locations(pki.ca_cert)
        server.url = loopback_server(answer, tls)
        return server

    return start


def get(connection: ApiServerConnection) -> Any:
    """One GET through fluidpy's transport, as every client request goes."""
    transport = Transport(connection, qps=0, burst=0, request_timeout=10.0)
    return transport.request("GET", "/api/v1/namespaces")


# Kubeconfigs


def write_kubeconfig(
    path: Path,
    cluster: dict[str, Any],
    user: dict[str, Any],
    *,
    others: dict[str, tuple[dict[str, Any], dict[str, Any]]] | None = None,
) -> Path:
    """A kubeconfig whose current context "main" joins `cluster` and `user`; `others` adds
    contexts by name, each with a cluster and user of its own."""
    contexts = {"main": (cluster, user), **(others or {})}
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": n, "cluster": c} for n, (c, _) in contexts.items()],
                "users": [{"name": n, "user": u} for n, (_, u) in contexts.items()],
                "contexts": [{"name": n, "context": {"cluster": n, "user": n}} for n in contexts],
                "current-context": "main",
            }
        )
    )
    return path


def b64(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode()


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> PKIFiles:
    return write_pki(tmp_path_factory.mktemp("pki"), "127.0.0.1")


@pytest.fixture(scope="module")
def other_pki(tmp_path_factory: pytest.TempPathFactory) -> PKIFiles:
    return write_pki(tmp_path_factory.mktemp("other-pki"), "127.0.0.1")


def test_a_token_user_sends_its_bearer_token(tmp_path: Path, api_server: StartServer) -> None:
    server = api_server()
    path = write_kubeconfig(tmp_path / "config", {"server": server.url}, {"token": "abc"})
    connection = kubeconfig_connection(path)

    get(connection)

    assert connection.host == server.url
    assert server.authorizations == ["Bearer abc"]
    assert server.user_agents == [f"fluidpy/{version('fluidpy')} (linux/{os.uname().machine})"]


def test_a_token_file_is_found_next_to_the_kubeconfig(
    tmp_path: Path, api_server: StartServer
) -> None:
    (tmp_path / "token").write_text("from-file\n")
    server = api_server()
    path = write_kubeconfig(tmp_path / "config", {"server": server.url}, {"tokenFile": "token"})
    get(kubeconfig_connection(path))

    assert server.authorizations == ["Bearer from-file"]


def test_a_user_name_and_password_go_as_basic_auth(tmp_path: Path, api_server: StartServer) -> None:
    server = api_server()
    user = {"username": "admin", "password": "secret"}
    get(kubeconfig_connection(write_kubeconfig(tmp_path / "c", {"server": server.url}, user)))

    assert server.authorizations == ["Basic " + base64.b64encode(b"admin:secret").decode()]


def test_inline_ca_and_client_certificate_data_set_up_tls_both_ways(
    tmp_path: Path, pki: PKIFiles, api_server: StartServer
) -> None:
    server = api_server(pki=pki, client_certificates=True)
    cluster = {"server": server.url, "certificate-authority-data": b64(pki.ca_cert)}
    user = {
        "client-certificate-data": b64(pki.admin_cert),
        "client-key-data": b64(pki.admin_key),
    }
    connection = kubeconfig_connection(write_kubeconfig(tmp_path / "config", cluster, user))

    assert get(connection) == {"kind": "Status", "code": 200}

    assert server.authorizations == [None]  # the certificate alone says who we are


def test_certificate_files_are_found_next_to_the_kubeconfig(
    tmp_path: Path, pki: PKIFiles, api_server: StartServer
) -> None:
    for name, source in (("ca.crt", pki.ca_cert), ("me.crt", pki.admin_cert)):
        (tmp_path / name).write_bytes(source.read_bytes())
    (tmp_path / "me.key").write_bytes(pki.admin_key.read_bytes())
    server = api_server(pki=pki, client_certificates=True)
    cluster = {"server": server.url, "certificate-authority": "ca.crt"}
    user = {"client-certificate": "me.crt", "client-key": "me.key"}

    assert get(kubeconfig_connection(write_kubeconfig(tmp_path / "c", cluster, user)))


def test_pod_exec_gets_inline_tls_material_as_private_files(tmp_path: Path, pki: PKIFiles) -> None:
    cluster = {"server": "https://127.0.0.1:9", "certificate-authority-data": b64(pki.ca_cert)}
    user = {"client-certificate-data": b64(pki.admin_cert), "client-key-data": b64(pki.admin_key)}
    connection = kubeconfig_connection(write_kubeconfig(tmp_path / "config", cluster, user))

    files = connection.tls_files()

    assert files.ca is not None and files.certificate is not None and files.key is not None
    for written, source in (
        (files.ca, pki.ca_cert),
        (files.certificate, pki.admin_cert),
        (files.key, pki.admin_key),
    ):
        assert Path(written).read_bytes() == source.read_bytes()
        assert Path(written).stat().st_mode & 0o777 == 0o600
    assert Path(files.key).parent.stat().st_mode & 0o777 == 0o700


def test_pod_exec_in_a_pod_writes_nothing(service_account: Path) -> None:
    """A manager pod's root filesystem is read-only: the service account's CA file is used as
    it is."""
    connection = in_cluster_connection("127.0.0.1", "443", service_account_dir=service_account)

    assert connection.tls_files() == TLSFiles(
        ca=str(service_account / "ca.crt"), certificate=None, key=None
    )


def test_a_server_certificate_from_another_ca_is_refused(
    tmp_path: Path, pki: PKIFiles, other_pki: PKIFiles, api_server: StartServer
) -> None:
    server = api_server(pki=pki)
    cluster = {"server": server.url, "certificate-authority-data": b64(other_pki.ca_cert)}
    connection = kubeconfig_connection(write_kubeconfig(tmp_path / "c", cluster, {}))

    with pytest.raises(TransportError, match="CERTIFICATE_VERIFY_FAILED"):
        get(connection)


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_insecure_skip_tls_verify_accepts_any_server_certificate(
    tmp_path: Path, pki: PKIFiles, api_server: StartServer
) -> None:
    server = api_server(pki=pki)
    cluster = {"server": server.url, "insecure-skip-tls-verify": True}
    connection = kubeconfig_connection(write_kubeconfig(tmp_path / "c", cluster, {}))

    assert get(connection)


def test_tls_server_name_is_the_name_the_certificate_must_carry(
    tmp_path: Path, pki: PKIFiles, api_server: StartServer
) -> None:
    server = api_server(pki=pki)
    ca = b64(pki.ca_cert)
    named = {"server": server.url, "certificate-authority-data": ca}
    good = write_kubeconfig(
        tmp_path / "good", {**named, "tls-server-name": "kubernetes.default"}, {}
    )
    bad = write_kubeconfig(
        tmp_path / "bad", {**named, "tls-server-name": "somewhere-else.example"}, {}
    )

    assert get(kubeconfig_connection(good))
    with pytest.raises(TransportError, match="CERTIFICATE_VERIFY_FAILED"):
        get(kubeconfig_connection(bad))


def test_a_named_context_picks_its_own_cluster_and_user(
    tmp_path: Path, api_server: StartServer
) -> None:
    server = api_server()
    path = write_kubeconfig(
        tmp_path / "config",
        {"server": "http://127.0.0.1:9"},
        {"token": "current"},
        others={"staging": ({"server": server.url}, {"token": "staging"})},
    )
    connection = kubeconfig_connection(path, context="staging")
    get(connection)

    assert server.authorizations == ["Bearer staging"]


def test_a_token_given_on_the_command_line_replaces_the_kubeconfig_credentials(
    tmp_path: Path, pki: PKIFiles
) -> None:
    user = {"client-certificate-data": b64(pki.admin_cert), "client-key-data": b64(pki.admin_key)}
    path = write_kubeconfig(tmp_path / "config", {"server": "https://127.0.0.1:9"}, user)

    connection = load_connection(path, token="service-account-token")

    assert connection.tls.client_certificate is None
    assert connection.auth_headers() == {"Authorization": "Bearer service-account-token"}


def test_a_missing_kubeconfig_says_where_it_looked_and_what_to_do(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "config"

    with pytest.raises(KubeconfigError) as raised:
        load_connection(missing)

    assert str(raised.value) == (
        f"kubeconfig {missing} does not exist; pass --kubeconfig or set KUBECONFIG"
    )


def test_an_unknown_context_is_named_with_the_known_ones(tmp_path: Path) -> None:
    path = write_kubeconfig(tmp_path / "config", {"server": "http://127.0.0.1:9"}, {})

    with pytest.raises(KubeconfigError, match=r"no context named 'prod' \(its contexts: main\)"):
        kubeconfig_connection(path, context="prod")


def test_a_removed_auth_provider_is_refused_with_the_replacement(tmp_path: Path) -> None:
    user = {"auth-provider": {"name": "gcp"}}
    path = write_kubeconfig(tmp_path / "config", {"server": "http://127.0.0.1:9"}, user)

    with pytest.raises(KubeconfigError, match=r"auth-provider is not supported.*user\.exec"):
        kubeconfig_connection(path)


# Exec plugins

PLUGIN = textwrap.dedent(
    """
    import json, os, pathlib
    state = pathlib.Path(os.environ["PLUGIN_STATE"])
    runs = int(state.read_text()) + 1 if state.exists() else 1
    state.write_text(str(runs))
    request = json.loads(os.environ["KUBERNETES_EXEC_INFO"])
    pathlib.Path(f"{state}.request").write_text(json.dumps(request))
    if os.environ.get("PLUGIN_CERT"):
        status = {
            "clientCertificateData": pathlib.Path(os.environ["PLUGIN_CERT"]).read_text(),
            "clientKeyData": pathlib.Path(os.environ["PLUGIN_KEY"]).read_text(),
        }
    else:
        status = {"token": f"token-{runs}"}
    if os.environ.get("PLUGIN_EXPIRES"):
        status["expirationTimestamp"] = os.environ["PLUGIN_EXPIRES"]
    credential = {"apiVersion": request["apiVersion"], "kind": "ExecCredential", "status": status}
    print(json.dumps(credential))
    """
)


@dataclass
class Plugin:
    """A fake exec plugin: a Python script printing `token-<n>` on its n-th run."""

    script: Path
    state: Path

    @property
    def runs(self) -> int:
        return int(self.state.read_text()) if self.state.exists() else 0

    @property
    def request(self) -> dict[str, Any]:
        """The ExecCredential it was given (KUBERNETES_EXEC_INFO) on its last run."""
        return dict(json.loads(Path(f"{self.state}.request").read_text()))

    def exec(self, api_version: str = V1, **env: str) -> dict[str, Any]:
        """The kubeconfig's user.exec running it."""
        return {
            "apiVersion": api_version,
            "command": sys.executable,
            "args": [str(self.script)],
            "env": [{"name": "PLUGIN_STATE", "value": str(self.state)}]
            + [{"name": name, "value": value} for name, value in env.items()],
            "interactiveMode": "Never",
        }


@pytest.fixture
def plugin(tmp_path: Path) -> Plugin:
    script = tmp_path / "plugin.py"
    script.write_text(PLUGIN)
    return Plugin(script, tmp_path / "runs")


def timestamp(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def test_an_exec_token_is_used_until_it_expires_then_the_plugin_runs_again(
    plugin: Plugin,
) -> None:
    expires = "2030-01-01T00:00:00Z"
    now = [timestamp(expires) - 3600]
    spec = ExecPluginSpec(
        command=sys.executable,
        api_version=V1,
        args=(str(plugin.script),),
        env=(("PLUGIN_STATE", str(plugin.state)), ("PLUGIN_EXPIRES", expires)),
    )
    credentials = ExecPlugin(spec, clock=lambda: now[0])

    assert credentials.headers() == {"Authorization": "Bearer token-1"}
    now[0] = timestamp(expires) - 1
    assert credentials.headers() == {"Authorization": "Bearer token-1"}
    assert plugin.runs == 1

    now[0] = timestamp(expires)
    assert credentials.headers() == {"Authorization": "Bearer token-2"}
    assert plugin.runs == 2


def test_a_refused_exec_token_is_replaced_and_the_request_sent_again(
    tmp_path: Path, plugin: Plugin, api_server: StartServer
) -> None:
    server = api_server(refuse=lambda auth: auth == "Bearer token-1")
    cluster = {"server": server.url}
    user = {"exec": {**plugin.exec(V1BETA1), "provideClusterInfo": True}}
    connection = kubeconfig_connection(write_kubeconfig(tmp_path / "config", cluster, user))

    assert get(connection) == {"kind": "Status", "code": 200}
    get(connection)

    assert server.authorizations == ["Bearer token-1", "Bearer token-2", "Bearer token-2"]
    assert plugin.runs == 2
    assert plugin.request == {
        "apiVersion": V1BETA1,
        "kind": "ExecCredential",
        "spec": {"interactive": False, "cluster": {"server": server.url}},
    }


def test_a_refusal_that_a_fresh_token_does_not_cure_is_the_callers_error(
    tmp_path: Path, plugin: Plugin, api_server: StartServer
) -> None:
    server = api_server(refuse=lambda _: True)
    user = {"exec": plugin.exec()}
    path = write_kubeconfig(tmp_path / "config", {"server": server.url}, user)

    with pytest.raises(ApiError) as raised:
        get(kubeconfig_connection(path))

    assert raised.value.status == 401
    assert server.authorizations == ["Bearer token-1", "Bearer token-2"]  # one retry, no loop


def test_an_exec_plugin_may_answer_with_a_client_certificate(
    tmp_path: Path, plugin: Plugin, pki: PKIFiles, api_server: StartServer
) -> None:
    server = api_server(pki=pki, client_certificates=True)
    cluster = {"server": server.url, "certificate-authority-data": b64(pki.ca_cert)}
    user = {"exec": plugin.exec(PLUGIN_CERT=str(pki.admin_cert), PLUGIN_KEY=str(pki.admin_key))}
    connection = kubeconfig_connection(write_kubeconfig(tmp_path / "config", cluster, user))

    assert get(connection) == {"kind": "Status", "code": 200}

    assert server.authorizations == [None]


def test_an_exec_plugin_certificate_that_does_not_parse_is_a_credentials_error(
    tmp_path: Path, plugin: Plugin, pki: PKIFiles
) -> None:
    (tmp_path / "garbage.pem").write_text("not a certificate")
    cluster = {"server": "https://127.0.0.1:9", "certificate-authority-data": b64(pki.ca_cert)}
    user = {
        "exec": plugin.exec(
            PLUGIN_CERT=str(tmp_path / "garbage.pem"), PLUGIN_KEY=str(pki.admin_key)
        )
    }
    connection = kubeconfig_connection(write_kubeconfig(tmp_path / "config", cluster, user))

    with pytest.raises(CredentialsError, match=r"client certificate and key .* are not valid PEM"):
        connection.auth_headers()


def test_a_missing_exec_plugin_is_named_with_its_install_hint(tmp_path: Path) -> None:
    user = {
        "exec": {
            "apiVersion": V1,
            "command": "fluidpy-test-no-such-plugin",
            "installHint": "install it from your cloud's CLI",
        }
    }
    path = write_kubeconfig(tmp_path / "config", {"server": "http://127.0.0.1:9"}, user)
    connection = kubeconfig_connection(path)

    with pytest.raises(CredentialsError) as raised:
        connection.auth_headers()

    assert raised.value.message == (
        "the kubeconfig's exec plugin `fluidpy-test-no-such-plugin` was not found "
        "(install it from your cloud's CLI)"
    )


def test_a_failing_exec_plugin_is_quoted(tmp_path: Path) -> None:
    failing = tmp_path / "failing.py"
    failing.write_text("import sys\nsys.exit('login expired: run `cloud login`')\n")
    spec = ExecPluginSpec(command=sys.executable, api_version=V1, args=(str(failing),))

    with pytest.raises(CredentialsError, match=r"exited with status 1: login expired"):
        ExecPlugin(spec).headers()


# In a pod


@pytest.fixture
def service_account(tmp_path: Path, pki: PKIFiles) -> Path:
    folder = tmp_path / "serviceaccount"
    folder.mkdir()
    (folder / "ca.crt").write_bytes(pki.ca_cert.read_bytes())
    (folder / "token").write_text("first")
    return folder


def test_in_a_pod_the_service_account_token_and_ca_are_used(
    service_account: Path, pki: PKIFiles, api_server: StartServer
) -> None:
    server = api_server(pki=pki)
    port = server.url.rsplit(":", 1)[1]
    connection = in_cluster_connection("127.0.0.1", port, service_account_dir=service_account)
    get(connection)

    assert connection.host == f"https://127.0.0.1:{port}"
    assert server.authorizations == ["Bearer first"]


def test_an_ipv6_service_address_is_bracketed(service_account: Path) -> None:
    connection = in_cluster_connection("::1", "6443", service_account_dir=service_account)

    assert connection.host == "https://[::1]:6443"


def test_a_rotated_token_is_read_again_once_a_minute(tmp_path: Path) -> None:
    (tmp_path / "token").write_text("first")
    now = [0.0]
    token = TokenFile(tmp_path / "token", clock=lambda: now[0])

    (tmp_path / "token").write_text("rotated")
    now[0] = 59.0
    assert token.headers() == {"Authorization": "Bearer first"}
    now[0] = 60.0
    assert token.headers() == {"Authorization": "Bearer rotated"}


def test_a_refused_token_is_read_again_at_once(
    service_account: Path, pki: PKIFiles, api_server: StartServer
) -> None:
    server = api_server(refuse=lambda auth: auth == "Bearer first", pki=pki)
    port = server.url.rsplit(":", 1)[1]
    connection = in_cluster_connection("127.0.0.1", port, service_account_dir=service_account)
    (service_account / "token").write_text("rotated")

    assert get(connection) == {"kind": "Status", "code": 200}

    assert server.authorizations == ["Bearer first", "Bearer rotated"]


def test_a_pod_without_a_service_account_token_is_told_how_to_fix_it(
    service_account: Path,
) -> None:
    (service_account / "token").unlink()

    with pytest.raises(KubeconfigError, match=r"automountServiceAccountToken.*--kubeconfig"):
        in_cluster_connection("127.0.0.1", "443", service_account_dir=service_account)
