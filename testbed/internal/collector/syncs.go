package collector // import "github.com/usageledger/usageledger/testbed/internal/collector"

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// SlowSyncs holds the file syncs of a running collector, as a disk under
// contention or a network volume that stops answering would: strace
// attaches to every thread of the process and keeps each fsync and
// fdatasync waiting for a delay before the kernel runs it. Release lets
// the process go on at full speed; a sync being held goes on to the disk
// at once.
type SlowSyncs struct {
	cmd    *exec.Cmd
	stderr bytes.Buffer
	done   chan struct{}
}

// HoldSyncs starts holding every fsync and fdatasync of process pid for
// delay, and returns once strace traces all of the process's threads. It
// needs strace (Debian's package of that name) and the right to trace the
// process, which root has.
func HoldSyncs(pid int, delay time.Duration) (*SlowSyncs, error) {
	strace, err := exec.LookPath("strace")
	if err != nil {
		return nil, fmt.Errorf("collector: slow storage needs strace: %w", err)
	}
	if delay < time.Microsecond {
		return nil, fmt.Errorf("collector: sync delay %s is below strace's microsecond", delay)
	}
	us := strconv.FormatInt(delay.Microseconds(), 10)
	s := &SlowSyncs{done: make(chan struct{})}
	s.cmd = exec.Command(strace, "-f", "-p", strconv.Itoa(pid), "-o", os.DevNull,
		"-e", "trace=fsync,fdatasync", "-e", "inject=fsync,fdatasync:delay_enter="+us)
	s.cmd.Stderr = &s.stderr
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("collector: starting strace: %w", err)
	}
	go func() {
		_ = s.cmd.Wait()
		close(s.done)
	}()

	deadline := time.Now().Add(10 * time.Second)
	for {
		traced, err := allTracedBy(pid, s.cmd.Process.Pid)
		switch {
		case err != nil:
			s.Release()
			return nil, err
		case traced:
			return s, nil
		case s.exited():
			return nil, fmt.Errorf("collector: strace -p %d exited: %s", pid, strings.TrimSpace(s.stderr.String()))
		case time.Now().After(deadline):
			s.Release()
			return nil, fmt.Errorf("collector: strace did not attach to every thread of %d within 10 s", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Release detaches strace and waits for it to end.
func (s *SlowSyncs) Release() {
	if !s.exited() {
		_ = s.cmd.Process.Signal(syscall.SIGINT)
	}
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

func (s *SlowSyncs) exited() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// allTracedBy reports whether every thread of pid is traced by tracer.
func allTracedBy(pid, tracer int) (bool, error) {
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/status", pid))
	if err != nil {
		return false, fmt.Errorf("collector: threads of %d: %w", pid, err)
	}
	if len(tasks) == 0 {
		return false, fmt.Errorf("collector: process %d has no threads; has it exited?", pid)
	}
	want := "TracerPid:\t" + strconv.Itoa(tracer) + "\n"
	for _, path := range tasks {
		status, err := os.ReadFile(path)
		if err != nil {
			// A thread ended while we looked.
			continue
		}
		if !bytes.Contains(status, []byte(want)) {
			return false, nil
		}
	}
	return true, nil
}
