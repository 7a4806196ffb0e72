// Command pause is the sandbox process of every pod on the real node: it holds the pod's
// namespaces open and does nothing else. As PID 1 of its namespace it must reap orphans and
// exit on SIGTERM or SIGINT, which no default signal disposition does for PID 1.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT, syscall.SIGCHLD)
	for received := range signals {
		if received != syscall.SIGCHLD {
			return
		}
		for {
			pid, err := syscall.Wait4(-1, nil, syscall.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
		}
	}
}
