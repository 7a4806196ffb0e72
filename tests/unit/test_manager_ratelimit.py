"""`fluidpy manager` has no client-side rate limit against a server with API Priority and
Fairness, unless the flags ask for one; against a server without APF it keeps Fluid's 20/30.

The "server" is a loopback HTTP listener that answers discovery of the flowcontrol group, or
does not: what is under test is the decision the manager takes from that one answer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pytest

from fluidpy.client import ApiServerConnection
from fluidpy.client.flowcontrol import FLOWCONTROL_GROUP
from fluidpy.manager import Manager, ManagerOptions
from fluidpy_cli.main import build_parser
from fluidpy_cli.manager import api_rate_limit

FLOWCONTROL_DISCOVERY = {
    "kind": "APIGroup",
    "apiVersion": "v1",
    "name": FLOWCONTROL_GROUP,
    "versions": [{"groupVersion": f"{FLOWCONTROL_GROUP}/v1", "version": "v1"}],
}


def api_server(
    serve: Callable[..., str], serves_flowcontrol: bool
) -> Iterator[tuple[ApiServerConnection, list[str]]]:
    asked: list[str] = []

    def answer(path: str, headers: Mapping[str, str]) -> tuple[int, Any]:
        asked.append(path)
        if serves_flowcontrol and path == f"/apis/{FLOWCONTROL_GROUP}":
            return 200, FLOWCONTROL_DISCOVERY
        return 404, {"kind": "Status", "code": 404, "reason": "NotFound"}

    api = ApiServerConnection(serve(answer))
    try:
        yield api, asked
    finally:
        api.close()


@pytest.fixture
def with_apf(
    loopback_server: Callable[..., str],
) -> Iterator[tuple[ApiServerConnection, list[str]]]:
    yield from api_server(loopback_server, serves_flowcontrol=True)


@pytest.fixture
def without_apf(
    loopback_server: Callable[..., str],
) -> Iterator[tuple[ApiServerConnection, list[str]]]:
    yield from api_server(loopback_server, serves_flowcontrol=False)


def manager_client_limit(flags: list[str], api: ApiServerConnection) -> tuple[float, int] | None:
    """(qps, burst) of the manager's client as `fluidpy manager FLAGS` builds it, or None."""
    args = build_parser().parse_args(["manager", *flags])
    limit = api_rate_limit(args, api)
    manager = Manager(api, ManagerOptions(qps=limit.qps, burst=limit.burst))
    bucket = manager.client.rate_limiter
    return None if bucket is None else (bucket.qps, bucket.burst)


def test_default_flags_have_no_limiter_when_the_server_advertises_apf(
    with_apf: tuple[ApiServerConnection, list[str]],
) -> None:
    api, asked = with_apf

    assert manager_client_limit([], api) is None
    assert asked == [f"/apis/{FLOWCONTROL_GROUP}"]


@pytest.mark.parametrize(
    ("flags", "limit"),
    [
        (["--kube-api-qps=50"], (50.0, 30)),
        (["--kube-api-burst=60"], (20.0, 60)),
        (["--kube-api-qps=50", "--kube-api-burst=60"], (50.0, 60)),
    ],
)
def test_explicit_flags_have_a_limiter_even_with_apf(
    flags: list[str], limit: tuple[float, int], with_apf: tuple[ApiServerConnection, list[str]]
) -> None:
    api, asked = with_apf

    assert manager_client_limit(flags, api) == limit
    assert asked == []  # the flags decide; the server is not asked


def test_zero_qps_flag_turns_the_limit_off(with_apf: tuple[ApiServerConnection, list[str]]) -> None:
    api, _ = with_apf

    assert manager_client_limit(["--kube-api-qps=0"], api) is None


def test_default_flags_keep_fluids_limit_against_a_server_without_apf(
    without_apf: tuple[ApiServerConnection, list[str]],
) -> None:
    api, asked = without_apf

    assert manager_client_limit([], api) == (20.0, 30)
    assert asked == [f"/apis/{FLOWCONTROL_GROUP}"]


def test_an_unreachable_server_keeps_the_limit() -> None:
    api = ApiServerConnection("http://127.0.0.1:9")  # discard port: nothing answers HTTP there
    try:
        assert manager_client_limit([], api) == (20.0, 30)
    finally:
        api.close()
