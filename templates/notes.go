package templates

// The texts below are not comments of their own: the runner renders each
// (with Renderer.RenderMessage) into a field another template shows, such
// as a run's note atop its comment or a job's error. Each still has its own
// template, which an operator may override like any other.

// TriggerKind says what started a run that no comment asked for.
type TriggerKind string

// Triggers.
const (
	TriggerNone      TriggerKind = ""
	TriggerPush      TriggerKind = "push"       // a push of Commit (autoplan)
	TriggerMerge     TriggerKind = "merge"      // the merge of pull request Number
	TriggerPlanQueue TriggerKind = "plan_queue" // the plan queue, once the lock was released
)

// Trigger is what started a run. The partial trigger.tmpl shows it after
// "Started by", e.g. "push of abc1234".
type Trigger struct {
	Kind   TriggerKind
	Commit string
	Number int
}

// RunInterrupted is the note atop a run's comment after atoll restarted
// in the middle of it. Apply: the run applies (each project then says what
// to do, as an apply is never simply rerun). Template: run_interrupted.tmpl.
type RunInterrupted struct{ Apply bool }

// JobInterrupted is the error of a job atoll's restart cut off. Kind is
// the job's kind: "plan", "apply" (a reviewed plan) or "plan_apply" (a
// plan made and applied at once, after a merge or on a drift issue).
// Template: job_interrupted.tmpl.
type JobInterrupted struct{ Kind string }

// SkipKind says why a job was skipped without running.
type SkipKind string

// Skip reasons.
const (
	SkipCancelled   SkipKind = "cancelled"    // an admin (By) cancelled it while queued
	SkipPlanGone    SkipKind = "plan_gone"    // the plan to apply was discarded
	SkipApplyTaken  SkipKind = "apply_taken"  // another apply owns the plan
	SkipPRClosed    SkipKind = "pr_closed"    // the pull request was closed
	SkipSuperseded  SkipKind = "superseded"   // a newer head (Commit) is planned instead
	SkipRestarted   SkipKind = "restarted"    // a drift check atoll's restart left unstarted, another is queued
	SkipOrderFailed SkipKind = "order_failed" // Project, of an earlier execution order group, failed
)

// JobSkipped is the reason a job ended skipped (shown after "Skipped:").
// Template: job_skipped.tmpl.
type JobSkipped struct {
	Kind    SkipKind
	By      string
	Commit  string
	Project string
}

// PartUnused is the body left in a run's extra comment once the run's
// text fits in fewer comments; it starts with Marker(ID). Template:
// part_unused.tmpl.
type PartUnused struct{ ID string }

func (PartUnused) Template() string { return "part_unused.tmpl" }

// JobPanicked is the error of a job that failed on a bug of atoll's (a
// panic, with its value as Error). Template: job_panicked.tmpl.
type JobPanicked struct{ Error string }

// JobUnknownKind is the error of a job whose Kind this atoll does not
// run (stored by another version). Template: job_unknown_kind.tmpl.
type JobUnknownKind struct{ Kind string }

func (JobUnknownKind) Template() string { return "job_unknown_kind.tmpl" }

// ApplyLockUnreadable is the reason every apply is refused while atoll
// cannot read its apply lock (the store's Error). Template:
// apply_lock_unreadable.tmpl.
type ApplyLockUnreadable struct{ Error string }

func (ApplyLockUnreadable) Template() string { return "apply_lock_unreadable.tmpl" }

// WebAction is something the web UI lets a user do.
type WebAction string

// Web UI actions.
const (
	WebReleaseLock WebAction = "release_lock"
	WebCancelJob   WebAction = "cancel_job"
	WebDriftCheck  WebAction = "drift_check"
)

// WebRefused is the web UI's refusal of Action to a user who lacks Need
// (as need.tmpl renders it), sent as plain text with status 403.
// Template: web_refused.tmpl.
type WebRefused struct {
	Action WebAction
	Need   string
}

func (WebRefused) Template() string { return "web_refused.tmpl" }

// WebErrorKind is what went wrong with a web request.
type WebErrorKind string

// Web errors: the sign-in, the forms, the apply lock and atoll's own
// failures, as a person reads them in the browser.
const (
	WebSignInFirst     WebErrorKind = "sign_in_first"     // a data endpoint without a session (401)
	WebBadForm         WebErrorKind = "bad_form"          // a form that does not parse (400)
	WebCSRFStale       WebErrorKind = "csrf_stale"        // a form without its CSRF token, or an old one (403)
	WebUIOff           WebErrorKind = "web_ui_off"        // no OAuth client configured (503)
	WebLoginState      WebErrorKind = "login_state"       // the OAuth state does not match (400)
	WebLoginRefused    WebErrorKind = "login_refused"     // GitHub refused the code exchange (401)
	WebUserUnreadable  WebErrorKind = "user_unreadable"   // GitHub did not say who the user is (502)
	WebSessionFailed   WebErrorKind = "session_failed"    // the session could not be stored (503)
	WebLogoutFailed    WebErrorKind = "logout_failed"     // the session could not be ended (503)
	WebApplyLockAdmins WebErrorKind = "apply_lock_admins" // a non-admin posted the apply lock form (403)
	WebApplyLockAction WebErrorKind = "apply_lock_action" // the form's action is not lock or unlock (400)
	WebApplyLockReason WebErrorKind = "apply_lock_reason" // locking applies without a reason (400)
	WebStreamingOff    WebErrorKind = "streaming_off"     // the connection cannot stream a log (500)
	WebInternal        WebErrorKind = "internal"          // atoll failed; the details are in its log (500)
)

// WebError is a plain-text error page of the web UI: Kind says what
// went wrong; the status code is the caller's. Template: web_error.tmpl.
type WebError struct{ Kind WebErrorKind }

func (WebError) Template() string { return "web_error.tmpl" }

// Need is what a user lacks to run a command, as permission_denied.tmpl
// and the web UI's refusals say it after "needs": a Permission on Repo
// (the user Has less), or else membership of one of Teams. Template:
// need.tmpl.
type Need struct {
	Permission, Repo, Have string
	Teams                  []string
}

func (Need) Template() string           { return "need.tmpl" }
func (RunInterrupted) Template() string { return "run_interrupted.tmpl" }
func (JobInterrupted) Template() string { return "job_interrupted.tmpl" }
func (JobSkipped) Template() string     { return "job_skipped.tmpl" }
func (JobPanicked) Template() string    { return "job_panicked.tmpl" }

// CheckState is the state of a check run before its job ends.
type CheckState string

// Check run states before the end.
const (
	CheckQueued     CheckState = "queued"     // the job waits for a worker
	CheckRunning    CheckState = "running"    // the job runs
	CheckRestarting CheckState = "restarting" // atoll stops; the job runs again after the restart
)

// CheckProgress is the output of a check run whose job has not ended.
// Templates: check_progress_title.tmpl (one line) and check_progress.tmpl
// (the summary).
type CheckProgress struct {
	State CheckState
	// Kind is the job's kind: "plan", "apply", "plan_apply" or "drift".
	Kind    string
	Project string
}

// RenderCheckProgress renders the title and summary of a check run whose
// job has not ended; Name is left empty (the caller names the check).
func (r *Renderer) RenderCheckProgress(c CheckProgress) (CheckOutput, error) {
	title, err := r.Render("check_progress_title.tmpl", c)
	if err != nil {
		return CheckOutput{}, err
	}
	summary, err := r.Render("check_progress.tmpl", c)
	if err != nil {
		return CheckOutput{}, err
	}
	return CheckOutput{Title: oneline(title), Summary: summary}, nil
}
