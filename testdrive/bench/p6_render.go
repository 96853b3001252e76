package bench

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/atollhq/atoll/templates"
)

// p6: a big plan rendered and split into comments.
func (b *bench) p6(ctx context.Context) (Row, error) {
	r, err := templates.New("")
	if err != nil {
		return Row{}, err
	}
	plan, heads := bigPlan(b.o.P6Resources)
	var got []time.Duration
	var parts []string
	for range max(b.o.Runs, 5) {
		t0 := time.Now()
		body, err := r.RenderCommandComment(templates.CommandComment{ID: "plan-1", Command: "plan", Status: templates.RunDone, MaxPlanChars: -1,
			Projects: []templates.ProjectResult{{Name: "fleet", Dir: "fleet", Status: templates.StatusPlanned, Add: len(heads), PlanText: plan}}})
		if err != nil {
			return Row{}, err
		}
		parts = templates.Split(body, templates.CommentLimit)
		got = append(got, time.Since(t0))
	}
	largest := 0
	for _, p := range parts {
		largest = max(largest, utf8.RuneCountInString(p))
	}
	lost := 0
	all := strings.Join(parts, "")
	for _, h := range heads {
		if !strings.Contains(all, h) {
			lost++
		}
	}
	return Row{Result: fmt.Sprintf("%s; %d comments, largest %d characters; %d of %d resources lost", statsOf(got), len(parts), largest, lost, len(heads)),
		Reference: fmt.Sprintf("limit %d characters", templates.CommentLimit),
		Ratio:     fmt.Sprintf("%.2f of the limit", float64(largest)/float64(templates.CommentLimit))}, nil
}

// bigPlan is terraform's text for n created resources.
func bigPlan(n int) (string, []string) {
	var sb strings.Builder
	sb.WriteString("\nTerraform used the selected providers to generate the following execution\nplan. Resource actions are indicated with the following symbols:\n  + create\n\nTerraform will perform the following actions:\n\n")
	var heads []string
	for i := range n {
		h := fmt.Sprintf(`# module.svc_%03d.aws_instance.web["node-%05d"] will be created`, i/50, i)
		heads = append(heads, h)
		fmt.Fprintf(&sb, "  %s\n  + resource \"aws_instance\" \"web\" {\n      + ami           = \"ami-%08d\"\n      + id            = (known after apply)\n      + instance_type = \"t3.micro\"\n      + tags          = {\n          + \"Name\" = \"node-%05d\"\n        }\n    }\n\n", h, i, i)
	}
	fmt.Fprintf(&sb, "Plan: %d to add, 0 to change, 0 to destroy.\n", n)
	return sb.String(), heads
}
