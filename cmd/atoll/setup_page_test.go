package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/atollhq/atoll/templates"
)

// TestSetupCallbackOfAnotherSetup: an answer whose state is not this
// setup's gets the setup error page, in the page template's words.
func TestSetupCallbackOfAnotherSetup(t *testing.T) {
	pages, err := templates.New("")
	if err != nil {
		t.Fatal(err)
	}
	m := &setupMain{state: "right", pages: pages}
	rec := httptest.NewRecorder()
	m.callback(rec, httptest.NewRequest(http.MethodGet, "/callback?state=wrong&code=c", nil))
	body := rec.Body.String()
	if rec.Code != http.StatusBadRequest || !strings.Contains(body, "This answer is not for this setup (its state does not match).") ||
		!strings.Contains(body, "The GitHub App could not be set up") {
		t.Errorf("callback = %d %q", rec.Code, body)
	}
}
