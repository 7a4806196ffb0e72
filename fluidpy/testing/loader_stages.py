"""kwok stages that finish data-operation loader pods, so their Jobs end through the real Job
controller although kwok runs no containers.

kwok's stock stages (hack/localcluster/kwok/stages) already make every Job's running pods
succeed. These two add control for loader pods (label `role: dataload-pod`, which DataLoad Jobs
put on their pods): a loader pod labelled `kwok.fluidpy.io/outcome: Failed` fails with exit code
1, any other loader pod succeeds. Both outweigh the stock stage (weight 1 against its 0), so
kwok always picks one of them for a loader pod. A test asks for a failure through the
DataLoad's own `spec.podMetadata.labels`.
"""

from __future__ import annotations

OUTCOME_LABEL = "kwok.fluidpy.io/outcome"
"""Set to "Failed" on a loader pod to make it fail; anything else (or nothing) succeeds."""
FAILED = "Failed"
LOADER_ROLE = "dataload-pod"


def _stage(name: str, outcome_operator: str, phase: str, exit_code: int, reason: str) -> str:
    return f"""apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: {name}
spec:
  resourceRef:
    apiGroup: v1
    kind: Pod
  selector:
    matchExpressions:
    - key: '.metadata.deletionTimestamp'
      operator: 'DoesNotExist'
    - key: '.status.phase'
      operator: 'In'
      values: ['Running']
    - key: '.metadata.labels.role'
      operator: 'In'
      values: ['{LOADER_ROLE}']
    - key: '.metadata.labels["{OUTCOME_LABEL}"]'
      operator: '{outcome_operator}'
      values: ['{FAILED}']
  weight: 1
  next:
    statusTemplate: |
      {{{{ $now := Now }}}}
      containerStatuses:
      {{{{ range .spec.containers }}}}
      - image: {{{{ .image | Quote }}}}
        name: {{{{ .name | Quote }}}}
        ready: false
        restartCount: 0
        started: false
        state:
          terminated:
            exitCode: {exit_code}
            finishedAt: {{{{ $now | Quote }}}}
            reason: {reason}
            startedAt: {{{{ $now | Quote }}}}
      {{{{ end }}}}
      phase: {phase}
"""


LOADER_STAGES = "---\n".join(
    (
        _stage("dataload-pod-succeed", "NotIn", "Succeeded", 0, "Completed"),
        _stage("dataload-pod-fail", "In", "Failed", 1, "Error"),
    )
)
"""The stage configuration, one more `--config` for kwok."""
