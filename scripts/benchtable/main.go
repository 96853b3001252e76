// Command benchtable runs atoll's Go benchmarks and prints their results
// as one table: `make bench`. Benchmarks are measurements, never
// assertions: nothing here fails on a slow number.
package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"text/tabwriter"
)

// packages holds the benchmarks, in the order of the table.
var packages = []string{
	"./runner/terraform",
	"./runner/discovery",
	"./server",
}

func main() {
	args := append([]string{"test", "-run", "^$", "-bench", ".", "-benchmem", "-count", "1"}, packages...)
	cmd := exec.Command("go", args...)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = os.Stderr
	err := cmd.Run()
	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "package\tbenchmark\titerations\tresults")
	pkg := ""
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, "pkg: "); ok {
			pkg = strings.TrimPrefix(rest, "github.com/atollhq/atoll/")
			continue
		}
		if !strings.HasPrefix(line, "Benchmark") {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 3 {
			continue
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", pkg, f[0], f[1], strings.Join(f[2:], " "))
	}
	w.Flush()
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(1)
	}
}
