// Package migrate turns another tool's server configuration into atoll's.
//
// Atlantis (Atlantis): an Atlantis server is configured by its flags (on
// the command line, in ATLANTIS_* variables, or in the YAML file its
// --config names, keyed by flag name) and by its server-side repo config
// (repos.yaml, or the JSON of --repo-config-json). Atlantis reads both and
// returns an atoll server configuration, ready to write as YAML, and the
// list of every setting it could not carry over, each with its location
// and the reason. It never writes a secret value into the configuration:
// secrets (the webhook secret, an inline App key, the API secret) are
// listed with where atoll reads them instead (a *_file key or an ATOLL_*
// variable). The result loads with config.LoadServer once those secrets
// are given.
//
// Settings of atoll that another part of atoll defines (command_aliases,
// allow_commands, ...) are carried only when this build of atoll has them
// (config.Keys lists them); otherwise they are reported.
package migrate
