// Package projects reads a repository's configuration at a commit
// (atoll.yaml, or the Atlantis-style file its server's repo rules name)
// and finds its projects: those a change touches, and all of them, each
// with the settings the configuration gives it. The files come from the
// mirror's objects when Git can read them so, else from a checkout or
// the code host; see Loader.
//
// It knows nothing of runs, jobs or comments: the root runner asks it
// for a RepoConfig and a list of projects and acts on them.
package projects
