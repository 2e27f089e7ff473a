package collector

import (
	"fmt"
	"os"
	"runtime"
	"strconv"

	"golang.org/x/sys/unix"
)

// Cores are the CPUs the testbed uses: the collector under test runs alone
// on CollectorCore and the test process (load generator and stand-in
// backend) on LoadCore.
const (
	LoadCore      = 0
	CollectorCore = 1
)

// CanPin reports whether the machine has the two cores the testbed pins
// processes to.
func CanPin() bool { return runtime.NumCPU() >= 2 }

// PinSelf restricts every thread of the calling process to core; threads
// started later inherit the mask of the thread that starts them.
func PinSelf(core int) error {
	var set unix.CPUSet
	set.Zero()
	set.Set(core)
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return fmt.Errorf("collector: listing threads: %w", err)
	}
	for _, task := range tasks {
		tid, err := strconv.Atoi(task.Name())
		if err != nil {
			continue
		}
		if err := unix.SchedSetaffinity(tid, &set); err != nil {
			return fmt.Errorf("collector: pinning thread %d to core %d: %w", tid, core, err)
		}
	}
	return nil
}
