"""`fluidpy manager` refuses flags that cannot work with one line that says the fix."""

from __future__ import annotations

import pytest

from fluidpy_cli.main import main
from fluidpy_cli.manager import duration, selected_kinds


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90", 90.0), ("90s", 90.0), ("5ms", 0.005), ("10m", 600.0), ("1h", 3600.0)],
)
def test_durations_read_like_go_durations(text: str, seconds: float) -> None:
    assert duration(text) == seconds


def test_engine_overrides_change_only_the_named_kind() -> None:
    kinds = selected_kinds(["dataset", "cacheruntime", "jindoruntime"], ["jindoruntime=myjindo"])

    assert [(k.gvk.kind, k.engine_type) for k in kinds] == [
        ("CacheRuntime", "cacheruntime"),
        ("JindoRuntime", "myjindo"),
    ]


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--controllers", "dataset,hdfsruntime"], "--controllers: unknown hdfsruntime"),
        (["--engine", "hdfsruntime=x"], "expected KIND=TYPE with KIND one of"),
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
