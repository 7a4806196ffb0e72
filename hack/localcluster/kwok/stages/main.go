// Command stages prints the stage configuration the local cluster's kwok runs with.
//
// kwok fakes kubelets by applying "stages" to nodes and pods. Its published module carries the
// stock stage sets as data; we select the ones the local cluster needs (nodes become Ready and
// renew their leases; pods become Ready, finish when owned by a Job, and are removed once
// deleted) and print them as one multi-document config for `kwok --config`.
package main

import (
	"fmt"
	"strings"

	nodefast "sigs.k8s.io/kwok/kustomize/stage/node/fast"
	nodeheartbeat "sigs.k8s.io/kwok/kustomize/stage/node/heartbeat-with-lease"
	podfast "sigs.k8s.io/kwok/kustomize/stage/pod/fast"
)

func main() {
	stages := []string{
		nodefast.DefaultNodeInit,
		nodeheartbeat.DefaultNodeHeartbeatWithLease,
		podfast.DefaultPodReady,
		podfast.DefaultPodComplete,
		podfast.DefaultPodDelete,
	}
	for i, stage := range stages {
		if i > 0 {
			fmt.Println("---")
		}
		fmt.Println(strings.TrimSpace(stage))
	}
}
