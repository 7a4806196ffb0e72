// Command controlplane is one binary for every process of the local control plane.
//
// The component is chosen by the first argument (or by the name the binary is called by, so a
// symlink named kube-apiserver works where tools such as envtest expect one binary per
// component). Each invocation runs exactly one component: the components keep global state
// (feature gates, metric registries, signal handlers) that must never be shared in one process.
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	_ "time/tzdata" // CronJob time zones, as upstream's mains do

	"github.com/spf13/cobra"
	"go.etcd.io/etcd/server/v3/etcdmain"
	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version"
	apiserver "k8s.io/kubernetes/cmd/kube-apiserver/app"
	controllermanager "k8s.io/kubernetes/cmd/kube-controller-manager/app"
	scheduler "k8s.io/kubernetes/cmd/kube-scheduler/app"
	kubelet "k8s.io/kubernetes/cmd/kubelet/app"
)

var cobraComponents = map[string]func() *cobra.Command{
	"kube-apiserver":          apiserver.NewAPIServerCommand,
	"kube-controller-manager": controllermanager.NewControllerManagerCommand,
	"kube-scheduler":          func() *cobra.Command { return scheduler.NewSchedulerCommand() },
	// The kubelet of the optional real node (`fluidpy cluster create --real-node`).
	"kubelet": func() *cobra.Command { return kubelet.NewKubeletCommand(context.Background()) },
}

func main() {
	component, args := filepath.Base(os.Args[0]), os.Args[1:]
	if _, known := cobraComponents[component]; !known && component != "etcd" {
		if len(args) == 0 {
			usage()
		}
		component, args = args[0], args[1:]
	}
	if component == "etcd" {
		etcdmain.Main(append([]string{"etcd"}, args...))
		return
	}
	newCommand, known := cobraComponents[component]
	if !known {
		usage()
	}
	command := newCommand()
	command.SetArgs(args)
	os.Exit(cli.Run(command))
}

func usage() {
	names := []string{"etcd"}
	for name := range cobraComponents {
		names = append(names, name)
	}
	sort.Strings(names)
	fmt.Fprintf(os.Stderr, "usage: controlplane COMPONENT [FLAGS...]\ncomponents: %v\n", names)
	os.Exit(2)
}
