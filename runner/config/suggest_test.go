package config

import (
	"strings"
	"testing"
)

func TestSuggest(t *testing.T) {
	known := []string{"projects", "workflows", "version", "when_modified"}
	tests := []struct{ name, want string }{
		{"projcts", "projects"},
		{"when_modifed", "when_modified"},
		{"versoin", "version"},
		{"prøjécts", "projects"}, // two characters off, four bytes: distance counts characters
		{"zzz", ""},
		{"", ""},
		{strings.Repeat("projects", 100), ""}, // too long to compare
	}
	for _, tt := range tests {
		if got := suggest(tt.name, known); got != tt.want {
			t.Errorf("suggest(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
}
