// Package codeowners reads a repository's CODEOWNERS file as GitHub does:
// where GitHub looks for it (Paths, first found wins), which lines it keeps
// (Parse skips the lines GitHub would reject), and which rule owns a file
// (File.Match: the last matching rule). It knows nothing of approvals: the
// gate decides whether the owners found here have approved.
package codeowners
