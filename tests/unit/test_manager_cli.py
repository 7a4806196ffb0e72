"""`fluidpy manager` refuses flags that cannot work with one line that says the fix."""

from __future__ import annotations

import argparse

import pytest

from fluidpy.engines.base import EngineOptions
from fluidpy_cli.main import build_parser, main
from fluidpy_cli.manager import duration, engine_options, resync_period, selected_kinds


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90", 90.0),
        ("90s", 90.0),
        ("300ms", 0.3),
        ("1m30s", 90.0),
        ("2h", 7200.0),
        ("1h0m3s", 3603.0),
        ("1.5s", 1.5),
        ("-1s", -1.0),
    ],
)
def test_durations_read_like_go_durations(text: str, seconds: float) -> None:
    assert duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "1x", "m", "1m30", "s1", "1 m"])
def test_a_malformed_duration_is_refused_with_the_expected_form(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="as in 300ms, 1m30s or 2h"):
        duration(text)


def test_engine_overrides_change_only_the_named_kind() -> None:
    kinds = selected_kinds(
        ["dataset", "cacheruntime", "jindoruntime"],
        ["jindoruntime=myjindo"],
        known_engines=["cacheruntime", "myjindo"],
    )

    assert [(k.gvk.kind, k.engine_type) for k in kinds] == [
        ("CacheRuntime", "cacheruntime"),
        ("JindoRuntime", "myjindo"),
    ]


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--controllers", "dataset,hdfsruntime"], "--controllers: unknown hdfsruntime"),
        (["--engine", "hdfsruntime=x"], "expected KIND=TYPE with KIND one of"),
        (["--engine", "jindoruntime=jindp"], "no engine 'jindp' is registered (known: alluxio"),
        (
            ["--kubeconfig", "/nonexistent/kubeconfig"],
            "kubeconfig /nonexistent/kubeconfig does not",
        ),
    ],
)
def test_bad_flags_are_one_clear_line_and_exit_code_2(
    flags: list[str],
    message: str,
    capsys: pytest.CaptureFixture[str],
    tmp_path: object,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    kubeconfig = [] if "--kubeconfig" in flags else ["--kubeconfig", "/nonexistent/kubeconfig"]

    assert main(["manager", *kubeconfig, *flags]) == 2

    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "variable",
    [
        "FLUID_SYNC_RETRY_DURATION",
        "FLUID_RUNTIME_RECONCILE_DURATION",
        "FLUID_RUNTIME_CONFIG_WRITE_INTERVAL",
    ],
)
def test_a_bad_environment_duration_stops_the_start_up_naming_the_variable(
    variable: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(variable, "1minute")

    assert main(["manager", "--kubeconfig", "/nonexistent/kubeconfig"]) == 2

    err = capsys.readouterr().err
    assert f"environment variable {variable}: '1minute' is not a duration" in err
    assert "Traceback" not in err


def test_a_bad_cache_node_exclude_selector_stops_the_start_up_naming_the_variable(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SCHEDULE_INFO_EXCLUDE_NODE_SELECTOR", "pool in (gpu")

    assert main(["manager", "--kubeconfig", "/nonexistent/kubeconfig"]) == 2

    err = capsys.readouterr().err
    assert "environment variable SCHEDULE_INFO_EXCLUDE_NODE_SELECTOR: unbalanced '('" in err
    assert "Traceback" not in err


def test_the_cache_node_exclude_selector_reaches_the_engines(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SCHEDULE_INFO_EXCLUDE_NODE_SELECTOR", "pool=gpu")

    options = engine_options(build_parser().parse_args(["manager"]))

    assert options.cache_node_exclude_selector == "pool=gpu"


def test_upstreams_image_variables_are_read_once_for_the_engines(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ALLUXIO_FUSE_IMAGE_ENV", "mirror.local/alluxio-fuse:2.9.0")
    monkeypatch.setenv("JINDO_FUSE_IMAGE_ENV", "")

    options = engine_options(build_parser().parse_args(["manager"]))

    assert options.image_variables["ALLUXIO_FUSE_IMAGE_ENV"] == "mirror.local/alluxio-fuse:2.9.0"
    assert "JINDO_FUSE_IMAGE_ENV" not in options.image_variables  # empty: the default stays


def test_the_runtime_config_write_interval_is_a_duration_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    manager = build_parser().parse_args(["manager"])
    assert engine_options(manager).config_write_interval == 2.0

    monkeypatch.setenv("FLUID_RUNTIME_CONFIG_WRITE_INTERVAL", "500ms")
    assert engine_options(manager).config_write_interval == 0.5

    monkeypatch.setenv("FLUID_RUNTIME_CONFIG_WRITE_INTERVAL", "0")
    assert engine_options(manager).config_write_interval == 0.0


def test_environment_durations_are_go_durations_and_flags_win_over_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FLUID_SYNC_RETRY_DURATION", "1m")
    monkeypatch.setenv("FLUID_RUNTIME_RECONCILE_DURATION", "-1")
    monkeypatch.setenv("MOUNT_ROOT", "/from-env")

    from_env = build_parser().parse_args(["manager"])
    from_flags = build_parser().parse_args(
        ["manager", "--sync-interval", "300ms", "--resync-period", "2h", "--mount-root", "/m"]
    )

    assert engine_options(from_env) == EngineOptions(mount_root="/from-env", sync_interval=60.0)
    assert resync_period(from_env) == 0.0
    assert engine_options(from_flags) == EngineOptions(mount_root="/m", sync_interval=0.3)
    assert resync_period(from_flags) == 7200.0


def test_a_bad_duration_flag_is_an_argparse_error_that_says_the_form(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["manager", "--resync-period", "1m30"])

    assert exit_.value.code == 2
    assert "argument --resync-period: '1m30' is not a duration" in capsys.readouterr().err
