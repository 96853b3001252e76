package terraform

import (
	"bytes"
	"os"
	"strconv"
	"syscall"
	"time"
)

// canKillRun: killRun works on Linux.
const canKillRun = true

// killRun kills, with SIGKILL, every process whose environment holds
// runIDEnv=id, and the process group of each: terraform (which
// terraform-exec starts in a process group of its own), its providers,
// and the commands of its provisioners, wherever they were reparented. It
// looks again until none is left, a few times at most, for a process that
// forked while it was killing, and returns how many processes it killed.
//
// terraform-exec does not say which process it started, so the command
// is found by the mark in its environment, in /proc.
func killRun(id string) int { return killMarked(runIDEnv + "=" + id) }

// killMarked kills, as killRun does, the processes whose environment
// holds the entry mark, and their process groups.
func killMarked(entry string) int {
	mark := []byte(entry)
	self, ownGroup := os.Getpid(), syscall.Getpgrp()
	killed := 0
	for pass := 0; pass < 5; pass++ {
		pids := findMarked(mark, self)
		if len(pids) == 0 {
			break
		}
		for _, pid := range pids {
			if pg, err := syscall.Getpgid(pid); err == nil && pg > 1 && pg != ownGroup {
				_ = syscall.Kill(-pg, syscall.SIGKILL)
			}
			if syscall.Kill(pid, syscall.SIGKILL) == nil {
				killed++
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return killed
}

// findMarked returns the processes, other than self, whose environment
// holds the entry mark. A zombie has no environment left and is not
// found. Processes whose environment cannot be read (another user's) are
// skipped.
func findMarked(mark []byte, self int) []int {
	dir, err := os.Open("/proc")
	if err != nil {
		return nil
	}
	names, _ := dir.Readdirnames(-1)
	dir.Close()
	var pids []int
	for _, n := range names {
		pid, err := strconv.Atoi(n)
		if err != nil || pid == self {
			continue
		}
		b, err := os.ReadFile("/proc/" + n + "/environ")
		if err != nil {
			continue
		}
		for _, kv := range bytes.Split(b, []byte{0}) {
			if bytes.Equal(kv, mark) {
				pids = append(pids, pid)
				break
			}
		}
	}
	return pids
}
