package discovery

import (
	"bytes"
	"encoding/json"
	"strings"
)

// moduleSources returns the literal "source" values of the top-level module
// blocks in one HCL file (.tf, .tofu). It is a small scanner, not a parser:
// it skips comments, strings (with ${...} templates) and heredocs, tracks
// bracket depth, and records `source = "..."` found directly inside a
// `module "NAME" { ... }` block. Invalid HCL never makes it fail; it returns
// what it could read, which terraform itself will reject later.
func moduleSources(src []byte) []string {
	if !bytes.Contains(src, []byte("module")) {
		return nil
	}
	s := hclScanner{b: src}
	var out []string
	depth := 0
	moduleDepth := -1 // depth inside the current module block, or -1
	// header state at depth 0: 1 after "module", 2 after its label
	header := 0
	afterBrace := false // the previous token opened the module block
	for {
		tok, text := s.next()
		opened := false
		switch tok {
		case tokEOF:
			return out
		case tokOpen:
			if depth == 0 && header == 2 && text == "{" {
				moduleDepth = 1
				opened = true
			}
			header = 0
			depth++
		case tokClose:
			if depth > 0 {
				depth--
			}
			if moduleDepth >= 0 && depth < moduleDepth {
				moduleDepth = -1
			}
			header = 0
		case tokIdent:
			switch {
			case depth == 0 && s.lineStart && text == "module":
				header = 1
			case depth == 0 && header == 1:
				header = 2 // unquoted label (legacy syntax)
			case moduleDepth == 1 && depth == 1 && (s.lineStart || afterBrace) && text == "source":
				if v, ok := s.literalAssignment(); ok {
					out = append(out, v)
				}
				header = 0
			default:
				header = 0
			}
		case tokString:
			if depth == 0 && header == 1 {
				header = 2
			} else {
				header = 0
			}
		default:
			header = 0
		}
		afterBrace = opened
	}
}

// moduleSourcesJSON does the same for .tf.json files:
// {"module": {"NAME": {"source": "..."}}}, where "NAME" may also hold a list
// of objects.
func moduleSourcesJSON(src []byte) []string {
	if !bytes.Contains(src, []byte(`"module"`)) {
		return nil
	}
	var doc struct {
		Module map[string]json.RawMessage `json:"module"`
	}
	if json.Unmarshal(src, &doc) != nil {
		return nil
	}
	type block struct {
		Source string `json:"source"`
	}
	var out []string
	for _, raw := range doc.Module {
		var one block
		if json.Unmarshal(raw, &one) == nil && one.Source != "" {
			out = append(out, one.Source)
			continue
		}
		var many []block
		if json.Unmarshal(raw, &many) == nil {
			for _, b := range many {
				if b.Source != "" {
					out = append(out, b.Source)
				}
			}
		}
	}
	return out
}

// isLocalSource reports whether a module source is a local path, by
// Terraform's rule: it starts with "./" or "../" (or their Windows forms).
func isLocalSource(src string) bool {
	return strings.HasPrefix(src, "./") || strings.HasPrefix(src, "../") ||
		strings.HasPrefix(src, `.\`) || strings.HasPrefix(src, `..\`)
}

type token int

const (
	tokEOF token = iota
	tokIdent
	tokString
	tokOpen  // { [ (
	tokClose // } ] )
	tokOther
)

type hclScanner struct {
	b []byte
	i int
	// lineStart is true when the last token returned was the first one on
	// its line (only whitespace or a comment before it).
	lineStart bool
}

// next returns the next token. For tokIdent and tokOpen, text is the token.
func (s *hclScanner) next() (token, string) {
	newline := s.i == 0
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '\n':
			newline = true
			s.i++
		case c == ' ' || c == '\t' || c == '\r':
			s.i++
		case c == '#' || (c == '/' && s.peek(1) == '/'):
			s.skipLine()
		case c == '/' && s.peek(1) == '*':
			end := bytes.Index(s.b[s.i+2:], []byte("*/"))
			if end < 0 {
				s.i = len(s.b)
			} else {
				if bytes.IndexByte(s.b[s.i:s.i+2+end], '\n') >= 0 {
					newline = true
				}
				s.i += 2 + end + 2
			}
		case c == '"':
			s.lineStart = newline
			s.i++
			s.skipString()
			return tokString, ""
		case c == '<' && s.peek(1) == '<':
			s.lineStart = newline
			s.skipHeredoc()
			return tokString, ""
		case c == '{' || c == '[' || c == '(':
			s.lineStart = newline
			s.i++
			return tokOpen, string(c)
		case c == '}' || c == ']' || c == ')':
			s.lineStart = newline
			s.i++
			return tokClose, ""
		case isIdentStart(c):
			s.lineStart = newline
			start := s.i
			for s.i < len(s.b) && isIdentPart(s.b[s.i]) {
				s.i++
			}
			return tokIdent, string(s.b[start:s.i])
		default:
			s.lineStart = newline
			s.i++
			return tokOther, ""
		}
	}
	return tokEOF, ""
}

func (s *hclScanner) peek(n int) byte {
	if s.i+n < len(s.b) {
		return s.b[s.i+n]
	}
	return 0
}

func (s *hclScanner) skipLine() {
	j := bytes.IndexByte(s.b[s.i:], '\n')
	if j < 0 {
		s.i = len(s.b)
		return
	}
	s.i += j // the newline itself is seen by next
}

// skipString skips the rest of a quoted string (the opening quote already
// consumed), including template sequences that may hold nested strings. A
// newline ends an unterminated string.
func (s *hclScanner) skipString() {
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '\\':
			s.i += 2
		case c == '"':
			s.i++
			return
		case c == '\n':
			return
		case (c == '$' || c == '%') && s.peek(1) == c && s.peek(2) == '{':
			s.i += 3 // "$${" is a literal "${"
		case (c == '$' || c == '%') && s.peek(1) == '{':
			s.i += 2
			s.skipTemplate()
		default:
			s.i++
		}
	}
}

// skipTemplate skips a ${ ... } or %{ ... } sequence up to its closing brace.
func (s *hclScanner) skipTemplate() {
	depth := 1
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch c {
		case '"':
			s.i++
			s.skipString()
			continue
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				s.i++
				return
			}
		}
		s.i++
	}
}

// skipHeredoc skips "<<EOF" or "<<-EOF" up to the closing marker line. A
// "<<" not followed by an identifier is skipped as an operator.
func (s *hclScanner) skipHeredoc() {
	s.i += 2
	if s.peek(0) == '-' {
		s.i++
	}
	start := s.i
	for s.i < len(s.b) && isIdentPart(s.b[s.i]) {
		s.i++
	}
	marker := s.b[start:s.i]
	if len(marker) == 0 {
		return
	}
	nl := bytes.IndexByte(s.b[s.i:], '\n')
	if nl < 0 {
		s.i = len(s.b)
		return
	}
	s.i += nl + 1
	for s.i < len(s.b) {
		end := bytes.IndexByte(s.b[s.i:], '\n')
		line := s.b[s.i:]
		if end >= 0 {
			line = s.b[s.i : s.i+end]
		}
		if bytes.Equal(bytes.TrimSpace(line), marker) {
			s.i += len(line)
			return
		}
		if end < 0 {
			s.i = len(s.b)
			return
		}
		s.i += end + 1
	}
}

// literalAssignment reads `= "literal"` after an attribute name. It returns
// false for any other form (an expression, a template with interpolation).
func (s *hclScanner) literalAssignment() (string, bool) {
	for s.i < len(s.b) && (s.b[s.i] == ' ' || s.b[s.i] == '\t') {
		s.i++
	}
	if s.peek(0) != '=' || s.peek(1) == '=' {
		return "", false
	}
	s.i++
	for s.i < len(s.b) && (s.b[s.i] == ' ' || s.b[s.i] == '\t') {
		s.i++
	}
	if s.peek(0) != '"' {
		return "", false
	}
	s.i++
	start := s.i
	for s.i < len(s.b) {
		switch c := s.b[s.i]; c {
		case '"':
			v := string(s.b[start:s.i])
			s.i++
			return v, true
		case '\\', '\n':
			// escapes and broken strings: not a plain local path
			s.skipString()
			return "", false
		case '$', '%':
			if s.peek(1) == '{' {
				s.skipString()
				return "", false
			}
		}
		s.i++
	}
	return "", false
}

func isIdentStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80
}

func isIdentPart(c byte) bool {
	return isIdentStart(c) || c == '-' || (c >= '0' && c <= '9')
}
