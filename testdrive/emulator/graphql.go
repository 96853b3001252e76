package emulator

import (
	"fmt"
	"net/http"
	"slices"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
)

// The GraphQL subset: mutation minimizeComment and unminimizeComment,
// query node(id) for an IssueComment, and rateLimit.

var classifiers = []string{"ABUSE", "DUPLICATE", "OFF_TOPIC", "OUTDATED", "RESOLVED", "SPAM"}

type gqlError struct {
	Type    string `json:"type,omitempty"`
	Path    []any  `json:"path,omitempty"`
	Message string `json:"message"`
}

// gqlRun executes one operation. Callers hold s.mu.
type gqlRun struct {
	s      *Server
	u      urls
	c      caller
	doc    *ast.QueryDocument
	vars   map[string]any
	errors []gqlError
}

func (s *Server) serveGraphQL(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		notFound(w)
		return
	}
	c := callerOf(r)
	if c.kind != installationToken && c.kind != userToken {
		writeJSON(w, http.StatusUnauthorized, obj{
			"message":           "This endpoint requires you to be authenticated.",
			"documentation_url": "https://docs.github.com/graphql/guides/forming-calls-with-graphql#authenticating-with-graphql",
		})
		return
	}
	var in struct {
		Query         string         `json:"query"`
		Variables     map[string]any `json:"variables"`
		OperationName string         `json:"operationName"`
	}
	if !decodeBody(w, r, &in) {
		return
	}
	doc, err := parser.ParseQuery(&ast.Source{Input: in.Query})
	if err != nil {
		writeJSON(w, http.StatusOK, obj{"errors": []gqlError{{Message: "Parse error: " + err.Error()}}})
		return
	}
	var op *ast.OperationDefinition
	for _, o := range doc.Operations {
		if in.OperationName == "" || o.Name == in.OperationName {
			op = o
			break
		}
	}
	if op == nil {
		writeJSON(w, http.StatusOK, obj{"errors": []gqlError{{Message: "No operation named " + in.OperationName}}})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g := &gqlRun{s: s, u: urlsOf(r), c: c, doc: doc, vars: in.Variables}
	root := "Query"
	if op.Operation == ast.Mutation {
		root = "Mutation"
	}
	data := g.object(root, op.SelectionSet, nil, g.root)
	out := obj{"data": data}
	if len(g.errors) > 0 {
		out["errors"] = g.errors
	}
	writeJSON(w, http.StatusOK, out)
}

// resolver gives one field of an object; ok false for an unknown field.
type resolver func(f *ast.Field, path []any) (v any, ok bool)

// object resolves a selection set against a type, following fragments.
func (g *gqlRun) object(typename string, sel ast.SelectionSet, path []any, res resolver) obj {
	out := obj{}
	g.collect(typename, sel, path, res, out)
	return out
}

func (g *gqlRun) collect(typename string, sel ast.SelectionSet, path []any, res resolver, out obj) {
	for _, s := range sel {
		switch x := s.(type) {
		case *ast.Field:
			key := x.Alias
			if key == "" {
				key = x.Name
			}
			if x.Name == "__typename" {
				out[key] = typename
				continue
			}
			v, ok := res(x, append(slices.Clone(path), key))
			if !ok {
				g.errors = append(g.errors, gqlError{Path: append(slices.Clone(path), key),
					Message: fmt.Sprintf("Field '%s' doesn't exist on type '%s'", x.Name, typename)})
				continue
			}
			out[key] = v
		case *ast.InlineFragment:
			if x.TypeCondition == "" || x.TypeCondition == typename || isInterfaceOf(x.TypeCondition, typename) {
				g.collect(typename, x.SelectionSet, path, res, out)
			}
		case *ast.FragmentSpread:
			if fd := g.doc.Fragments.ForName(x.Name); fd != nil && (fd.TypeCondition == typename || isInterfaceOf(fd.TypeCondition, typename)) {
				g.collect(typename, fd.SelectionSet, path, res, out)
			}
		}
	}
}

func isInterfaceOf(iface, typename string) bool {
	return typename == "IssueComment" && slices.Contains([]string{"Node", "Minimizable", "Comment", "Reactable", "Deletable", "Updatable"}, iface)
}

func (g *gqlRun) arg(f *ast.Field, name string) any {
	a := f.Arguments.ForName(name)
	if a == nil {
		return nil
	}
	v, err := a.Value.Value(g.vars)
	if err != nil {
		return nil
	}
	return v
}

func (g *gqlRun) root(f *ast.Field, path []any) (any, bool) {
	switch f.Name {
	case "minimizeComment", "unminimizeComment":
		in, _ := g.arg(f, "input").(map[string]any)
		id, _ := in["subjectId"].(string)
		cls, _ := in["classifier"].(string)
		if f.Name == "minimizeComment" && !slices.Contains(classifiers, cls) {
			g.errors = append(g.errors, gqlError{Path: path, Message: fmt.Sprintf(
				"Argument 'classifier' on InputObject 'MinimizeCommentInput' has an invalid value (%v). Expected type 'ReportedContentClassifiers!'.", in["classifier"])})
			return nil, true
		}
		c := g.comment(id, path)
		if c == nil {
			return nil, true
		}
		if !g.c.owns(c.repo) || !g.c.writes() {
			g.errors = append(g.errors, gqlError{Type: "FORBIDDEN", Path: path, Message: "Resource not accessible by integration"})
			return nil, true
		}
		if f.Name == "minimizeComment" {
			g.s.minimize(c, cls)
		} else {
			c.minimized = ""
		}
		return g.object(upper(f.Name)+"Payload", f.SelectionSet, path, func(sf *ast.Field, p []any) (any, bool) {
			switch sf.Name {
			case "clientMutationId":
				return in["clientMutationId"], true
			case "minimizedComment", "unminimizedComment":
				return g.object("IssueComment", sf.SelectionSet, p, g.commentFields(c)), true
			}
			return nil, false
		}), true
	case "node":
		id, _ := g.arg(f, "id").(string)
		c := g.comment(id, path)
		if c == nil {
			return nil, true
		}
		return g.object("IssueComment", f.SelectionSet, path, g.commentFields(c)), true
	case "repository":
		return g.repository(f, path)
	case "rateLimit":
		return g.object("RateLimit", f.SelectionSet, path, func(sf *ast.Field, _ []any) (any, bool) {
			v, ok := map[string]any{"limit": 5000, "remaining": 4999, "used": 1, "cost": 1,
				"resetAt": ts(g.s.now().Add(3600e9)), "nodeCount": 1}[sf.Name]
			return v, ok
		}), true
	}
	return nil, false
}

func upper(s string) string {
	if s == "" {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}

// comment resolves a node id to a comment the caller may see, recording
// GitHub's NOT_FOUND error otherwise.
func (g *gqlRun) comment(id string, path []any) *comment {
	prefix, n, ok := parseNodeID(id)
	c := g.s.comments[n]
	if !ok || prefix != "IC" || c == nil || (c.repo.private && !g.c.owns(c.repo)) {
		g.errors = append(g.errors, gqlError{Type: "NOT_FOUND", Path: path,
			Message: fmt.Sprintf("Could not resolve to a node with the global id of '%s'", id)})
		return nil
	}
	return c
}

func (g *gqlRun) commentFields(c *comment) resolver {
	return func(f *ast.Field, path []any) (any, bool) {
		switch f.Name {
		case "id":
			return nodeID("IC", c.id), true
		case "databaseId", "fullDatabaseId":
			return c.id, true
		case "body":
			return c.body, true
		case "isMinimized":
			return c.minimized != "", true
		case "minimizedReason":
			if c.minimized == "" {
				return nil, true
			}
			return c.minimized, true
		case "url":
			return g.s.commentJSON(g.u, c, false)["html_url"], true
		case "viewerCanMinimize":
			return g.c.owns(c.repo) && g.c.writes(), true
		case "author":
			return g.object(c.user.typ, f.SelectionSet, path, func(sf *ast.Field, _ []any) (any, bool) {
				if sf.Name == "login" {
					return c.user.login, true
				}
				return nil, false
			}), true
		case "createdAt":
			return ts(c.created), true
		}
		return nil, false
	}
}
