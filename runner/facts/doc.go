// Package facts computes the facts every part of the runner shares, each
// by one function, so that commands, policies, requirements, code owners
// and drift remediation cannot come to disagree on them: the files a pull
// request changes (ChangedFiles, with git's diff where the code host's
// list is incomplete), team membership (MemberOfAny), a repository's
// facts (RepoFacts), and the reviews that count (LatestReviews). Each takes a one-method interface of what it asks of
// the code host or git, so a test gives it a plain struct.
package facts
