"""`fluidpy status` renders one screen per Dataset from what it read: a pure function."""

from __future__ import annotations

from fluidpy_cli.status import DatasetView, last_warning, render


def ready(status: str, reason: str, message: str) -> dict[str, str]:
    return {"type": "Ready", "status": status, "reason": reason, "message": message}


def test_a_runtime_being_set_up_shows_its_components_and_what_it_waits_for() -> None:
    view = DatasetView(
        namespace="default",
        name="demofs",
        phase="NotBound",
        runtime_kind="CacheRuntime",
        runtime_status={
            "master": {"phase": "Ready", "desiredReplicas": 1, "readyReplicas": 1},
            "worker": {"phase": "NotReady", "desiredReplicas": 2, "readyReplicas": 0},
            "conditions": [ready("False", "SettingUp", "The runtime is being set up.")],
        },
        last_warning={
            "reason": "SecretNotFound",
            "message": "waiting for Secret default/jfs-secret",
            "count": 3,
            "lastTimestamp": "2026-12-05T08:30:00Z",
        },
    )
    assert render(view).splitlines() == [
        "Dataset default/demofs  NotBound  (CacheRuntime demofs)",
        "  components    master Ready 1/1   worker NotReady 0/2",
        "  cache         no figures yet",
        "  waiting for   SettingUp: The runtime is being set up.",
        "  last warning  SecretNotFound: waiting for Secret default/jfs-secret "
        "(x3, 2026-12-05T08:30:00Z)",
    ]


def test_a_bound_dataset_shows_its_cache_figures_or_why_there_are_none() -> None:
    figures = DatasetView(
        "ns",
        "data",
        "Bound",
        "AlluxioRuntime",
        runtime_status={"conditions": [ready("True", "Ready", "ready")]},
        dataset_status={
            "cacheStates": {
                "cached": "1.00GiB",
                "cacheCapacity": "4.00GiB",
                "cachedPercentage": "25.0%",
            },
            "ufsTotal": "2.00GiB",
            "fileNum": "12",
        },
    )
    lines = render(figures).splitlines()
    assert lines[2] == "  cache         cached 1.00GiB of 4.00GiB (25.0%); UFS 2.00GiB in 12 files"
    assert lines[3:] == ["  waiting for   - (ready)", "  last warning  -"]
    unreported = DatasetView(
        "ns",
        "demo",
        "Bound",
        "CacheRuntime",
        dataset_status={
            "conditions": [
                {
                    "type": "CacheStatesReported",
                    "status": "False",
                    "message": "not reported by this runtime: ...",
                }
            ]
        },
    )
    assert render(unreported).splitlines()[2] == "  cache         not reported by this runtime: ..."


def test_a_dataset_without_a_runtime_says_which_runtime_it_waits_for() -> None:
    view = DatasetView("ns", "lonely", "NotBound", None)
    assert render(view).splitlines()[:2] == [
        "Dataset ns/lonely  NotBound  (no runtime yet)",
        "  waiting for   a runtime named lonely in namespace ns",
    ]


def test_the_last_warning_is_the_latest_about_the_dataset_or_its_runtime() -> None:
    def event(kind: str, name: str, type_: str, when: str) -> dict[str, object]:
        return {
            "type": type_,
            "involvedObject": {"kind": kind, "name": name},
            "lastTimestamp": when,
            "reason": f"{kind}-{when}",
        }

    events = [
        event("CacheRuntime", "demo", "Warning", "2026-12-05T08:00:00Z"),
        event("Dataset", "demo", "Warning", "2026-12-05T08:05:00Z"),
        event("CacheRuntime", "demo", "Normal", "2026-12-05T08:09:00Z"),
        event("CacheRuntime", "other", "Warning", "2026-12-05T08:10:00Z"),
    ]
    found = last_warning(events, ("CacheRuntime", "demo"), ("Dataset", "demo"))
    assert found is not None and found["reason"] == "Dataset-2026-12-05T08:05:00Z"
