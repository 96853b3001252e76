package config

import (
	"net"
	"time"
)

// Ops are the settings an operator running atoll tunes: the log format,
// where metrics are served, what readiness means and how long a shutdown
// waits for running applies.
type Ops struct {
	// LogFormat is text (default) or json.
	LogFormat string `yaml:"log_format"`
	// MetricsListen, when set, serves /metrics on this address instead of
	// on Listen.
	MetricsListen string `yaml:"metrics_listen"`
	// ReadyGitHubWindow: /readyz answers 503 when GitHub has not answered
	// a probe within it (default 5m).
	ReadyGitHubWindow time.Duration `yaml:"ready_github_window"`
	// ShutdownGrace bounds how long SIGTERM waits for running applies
	// (default 10m).
	ShutdownGrace time.Duration `yaml:"shutdown_grace"`
}

func defaultOps() Ops {
	return Ops{LogFormat: "text", ReadyGitHubWindow: 5 * time.Minute, ShutdownGrace: 10 * time.Minute}
}

// validateOps checks log_format, metrics_listen and the durations.
func (s Server) validateOps(c checker) {
	oneOf(c, "log_format", s.LogFormat, "text", "json")
	if s.MetricsListen != "" {
		if _, _, err := net.SplitHostPort(s.MetricsListen); err != nil {
			c.errorf("metrics_listen", "%q is not HOST:PORT or :PORT", s.MetricsListen)
		}
	}
	if s.ReadyGitHubWindow <= 0 {
		c.errorf("ready_github_window", "must be positive, such as 5m")
	}
	if s.ShutdownGrace < 0 {
		c.errorf("shutdown_grace", "must not be negative")
	}
}
