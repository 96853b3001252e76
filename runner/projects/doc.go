// Package projects holds a repository's configuration as the runner uses
// it (atoll.yaml, or the Atlantis-style file) and the projects a change
// touches. Loading it from a commit and discovering projects will move
// here from the root runner package; its types are here first so that
// every part of the runner can share them.
package projects
