#!/usr/bin/env bash
# Runs every fuzz target for FUZZTIME (default 1m), one after another: go
# test -fuzz takes one target per run. A crash is saved by go test in the
# target's testdata/fuzz/NAME/ and fails the run.
#
# Go 1.26's fuzz coordinator can end a clean run with a bare "context
# deadline exceeded" when a worker is slow to stop on a loaded machine
# (golang/go#75804, fixed in Go 1.27). A run that fails that way without
# saving a new input is reported as that, not as a finding.
set -uo pipefail
FUZZTIME=${FUZZTIME:-1m}
# Minimizing a new interesting input is not counted in FUZZTIME and may take
# a minute by default; a short run would spend most of its time there.
FUZZMINIMIZETIME=${FUZZMINIMIZETIME:-5s}
GO=${GO:-go}
targets=(
	FuzzParseWebhook:./vcs/github
	FuzzParse:./runner/command
	FuzzExtraArgs:./runner/terraform
	FuzzParseRepo:./runner/config
	FuzzLoadServer:./runner/config
	FuzzCodeOwners:./runner
	FuzzSummarize:./runner/terraform
	FuzzSplit:./templates
)
failed=()
for t in "${targets[@]}"; do
	name=${t%%:*} pkg=${t#*:}
	corpus="$pkg/testdata/fuzz/$name"
	before=$(ls "$corpus" 2>/dev/null | wc -l)
	echo "== $name ($pkg) for $FUZZTIME"
	out=$("$GO" test -run '^$' -fuzz "^$name\$" -fuzztime "$FUZZTIME" -fuzzminimizetime "$FUZZMINIMIZETIME" "$pkg" 2>&1)
	status=$?
	echo "$out" | grep -v '^fuzz: elapsed' | grep -v '^$'
	echo "$out" | grep '^fuzz: elapsed' | tail -1
	after=$(ls "$corpus" 2>/dev/null | wc -l)
	if [ "$status" -ne 0 ]; then
		if [ "$after" -eq "$before" ] && echo "$out" | grep -q '^    context deadline exceeded$'; then
			echo "   $name: no crash found; go's fuzz coordinator stopped late (golang/go#75804)"
		else
			failed+=("$name")
		fi
	fi
done
if [ ${#failed[@]} -gt 0 ]; then
	echo "fuzz: failures in ${failed[*]}: see the new inputs in their testdata/fuzz directories"
	exit 1
fi
echo "fuzz: ${#targets[@]} targets, no crash"
