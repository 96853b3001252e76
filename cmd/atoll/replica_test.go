package main

import (
	"strings"
	"testing"
)

// A data dir's replica id stays the same across restarts, and a second
// process (here: a second claim) cannot take a data dir that is in use.
func TestReplicaIDIsTheDataDirs(t *testing.T) {
	dir := t.TempDir()
	id, release, err := claimReplica(dir)
	if err != nil || id == "" {
		t.Fatalf("first claim: %q, %v", id, err)
	}
	if _, _, err := claimReplica(dir); err == nil || !strings.Contains(err.Error(), "in use by another atoll process") {
		t.Fatalf("second claim of a data dir in use: %v; want refused", err)
	}
	release()
	again, release, err := claimReplica(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	if again != id {
		t.Errorf("replica id after a restart = %q, want %q", again, id)
	}
	other, releaseOther, err := claimReplica(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer releaseOther()
	if other == id {
		t.Errorf("two data dirs share the replica id %q", id)
	}
}
