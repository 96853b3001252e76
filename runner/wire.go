package runner

import (
	"path/filepath"

	"github.com/atollhq/atoll/runner/clearance"
	"github.com/atollhq/atoll/runner/execute"
	"github.com/atollhq/atoll/runner/lockqueue"
	"github.com/atollhq/atoll/runner/order"
	"github.com/atollhq/atoll/runner/pr"
	"github.com/atollhq/atoll/runner/projects"
	"github.com/atollhq/atoll/runner/switches"
	"github.com/atollhq/atoll/runner/trail"
	"github.com/atollhq/atoll/runner/view"
	"github.com/atollhq/atoll/templates"
)

// wire builds, once, the services the engine drives, from r's parts and
// the adapters (bridge_*.go) through which each reaches back into the
// engine. New calls it after the leases are made.
func (r *Runner) wire() {
	r.trail = &trail.Trail{Sink: r.cfg.Audit, Retention: r.cfg.AuditRetention, Log: r.log, Now: r.now}
	r.planQueue = lockqueue.New(lockqueue.Deps{Store: r.cfg.Store, Host: r.host, Trail: r.trail, Engine: queueEngine{r},
		Now: r.now, Log: r.log})
	r.projects = &projects.Loader{Host: r.host, Git: r.git, Server: r.srv,
		WorkDir: filepath.Join(r.cfg.DataDir, "work"), Log: r.log}
	r.view = &view.View{Records: r.rec, Comments: r.host, Checks: r.host, Facts: viewFacts{r}, Templates: r.tmpl, Masker: r.masker,
		Options: view.Options{QuietPolicyChecks: r.srv.QuietPolicyChecks, SummaryOnly: r.srv.SummaryOnly,
			Unsandboxed: r.cfg.Sandbox == nil, HTMLURL: r.cfg.HTMLURL},
		Log: r.log}
	r.switches = &switches.Switches{Records: r.rec, DisableApply: r.srv.DisableApply, Text: r.view.Text, Now: r.now, Log: r.log}
	gd := clearance.Deps{Server: r.srv, DefaultRequirements: projects.RequirementNames(r.srv.ApplyRequirements),
		Host: r.host, Git: r.git, Loader: r.projects, Engine: gateEngine{r}, Trail: r.trail, View: r.view,
		JobURL: r.jobURL, Records: r.rec,
		Templates: r.tmpl, Log: r.log}
	if r.cfg.Policies != nil {
		gd.Policies = r.cfg.Policies
	}
	r.gates = clearance.New(gd)
	r.exec = execute.New(execute.Deps{Server: r.srv, DataDir: r.cfg.DataDir, TFEnv: r.tfEnv, TFSecrets: r.tfSecrets,
		Masker: r.masker, Resolve: r.cfg.Resolve, Launch: r.cfg.Launch, Sandbox: r.cfg.Sandbox, Policies: r.cfg.Policies,
		Shared: r.cfg.Cluster.Shared, Store: r.cfg.Store, Locks: r.cfg.Store, Rec: r.rec, Host: r.host, Git: r.git,
		Engine: execEngine{r}, Repos: r.projects, Queue: r.planQueue, View: r.view, Gate: r.gates, Observer: r.observer, WorkDir: r.workDir,
		Log: r.log, Now: r.now})
	r.pr = pr.New(pr.Deps{
		Settings:           r.srv,
		Records:            r.rec,
		Locks:              r.cfg.Store,
		Host:               r.host,
		Merger:             r.host,
		Engine:             prEngine{r},
		Repos:              r.projects,
		Replies:            r.view,
		Audit:              r.trail,
		Gate:               r.gates,
		Plans:              r.exec,
		Queue:              r.planQueue,
		PoliciesConfigured: r.cfg.Policies != nil,
		Issues:             prIssues{r},
		BotLogin:           func() string { return r.botLogin },
		Version:            r.versionData(),
		Log:                r.log,
		Now:                r.now,
	})
	r.drift = newDriftScheduler(r)
	r.order = order.Groups{Records: r.rec}
}

// versionData is atoll's version, for `atoll version` and drift issues.
func (r *Runner) versionData() templates.Version {
	return templates.Version{Version: r.cfg.Version, Commit: r.cfg.Commit, GoVersion: goVersion()}
}
