package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/agnivade/levenshtein"
	"gopkg.in/yaml.v3"
)

// maxNodes bounds the YAML nodes one document may expand to (aliases
// included), so a small file cannot make atoll walk a huge tree.
const maxNodes = 100000

// maxDocumentBytes bounds the size of a configuration file: larger ones are
// refused before they are parsed, so a huge file cannot make atoll spend
// memory and time on it. Real configurations are a few kilobytes.
const maxDocumentBytes = 1 << 20

var (
	durationType = reflect.TypeOf(time.Duration(0))
	envValueType = reflect.TypeOf(EnvValue{})
)

// parseYAML reads one YAML document into its root node. An empty document
// gives (nil, nil). Syntax errors become FieldErrors with the line YAML
// reports; a document over maxDocumentBytes is refused unread. (yaml.v3
// itself refuses nesting deeper than 10,000 levels, and aliases are not
// expanded in the node tree: the decoder counts them against maxNodes.)
func parseYAML(file string, data []byte, errs *errList) (root *yaml.Node) {
	if len(data) > maxDocumentBytes {
		errs.add(FieldError{File: file, Kind: KindFileTooLarge, Size: len(data), Limit: maxDocumentBytes,
			Message: fmt.Sprintf("the file is %d bytes, over the limit of %d (1 MiB)", len(data), maxDocumentBytes)})
		return nil
	}
	defer func() {
		if r := recover(); r != nil { // the YAML library must not take atoll down
			detail := fmt.Sprint(r)
			errs.add(FieldError{File: file, Kind: KindInvalidYAML, Detail: detail, Message: "invalid YAML: " + detail})
			root = nil
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil
		}
		errs.add(yamlError(file, err))
		return nil
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			errs.add(yamlError(file, err))
		} else {
			errs.add(FieldError{File: file, Line: extra.Line, Column: extra.Column, Kind: KindMultipleDocuments,
				Message: "only one YAML document is allowed; remove the second \"---\""})
		}
		return nil
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil
	}
	return doc.Content[0]
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlError locates a YAML syntax error. yaml.v3 gives parser errors ("did
// not find expected ...") a 0-based line and scanner errors a 1-based one;
// the parser's are shifted so both point at the construct in question.
func yamlError(file string, err error) FieldError {
	msg := err.Error()
	line := 0
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	if strings.HasPrefix(msg, "did not find expected") {
		line++
	}
	return FieldError{File: file, Line: line, Kind: KindInvalidYAML, Detail: msg, Message: "invalid YAML: " + msg}
}

// exhausted reports whether the document went over maxNodes: what was
// decoded is then incomplete, and checking it would only report the holes.
func (d *decoder) exhausted() bool { return d.nodes >= maxNodes }

// decoder copies a YAML node tree into a Go value, strictly: unknown keys,
// duplicate keys and wrong types are errors, each with its position, and
// decoding goes on after an error so that every problem is reported. Go
// fields are matched by their `yaml` tag; `yaml:",inline"` embeds a struct's
// keys in its parent's. It records where every key it sets came from.
type decoder struct {
	file  string
	errs  *errList
	src   sources
	nodes int
}

// report records fe at n, key being the path of the value.
func (d *decoder) report(n *yaml.Node, key string, fe FieldError) {
	fe.File, fe.Line, fe.Column, fe.Key = d.file, n.Line, n.Column, key
	d.errs.add(fe)
}

// wrongType reports that n is not of the expected type; the English says
// what was expected in want's words ("a list", "true or false").
func (d *decoder) wrongType(n *yaml.Node, key, expected, want string) {
	got := describe(n)
	d.report(n, key, FieldError{Kind: KindWrongType, Expected: expected, Got: got,
		Message: fmt.Sprintf("expected %s, got %s", want, got)})
}

// resolve follows aliases and counts nodes; it returns nil once the budget
// is spent.
func (d *decoder) resolve(n *yaml.Node, key string) *yaml.Node {
	for hops := 0; n != nil && n.Kind == yaml.AliasNode; hops++ {
		if hops > 100 {
			return nil
		}
		n = n.Alias
	}
	d.nodes++
	if d.nodes == maxNodes {
		d.report(n, key, FieldError{Kind: KindTooManyValues, Limit: maxNodes,
			Message: fmt.Sprintf("the document is too large (more than %d values, aliases expanded)", maxNodes)})
	}
	if d.nodes >= maxNodes {
		return nil
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// describe names what a node holds, for type errors.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	default:
		v := n.Value
		if len(v) > 40 {
			v = v[:40] + "..."
		}
		return strconv.Quote(v)
	}
}

// decode stores n into v (addressable), key being its path.
func (d *decoder) decode(n *yaml.Node, v reflect.Value, key string) {
	if n = d.resolve(n, key); n == nil || isNull(n) {
		return // null leaves the value (a default) alone
	}
	d.src[key] = origin{d.file, n.Line, n.Column}
	if v.CanAddr() {
		if nd, ok := v.Addr().Interface().(nodeDecoder); ok {
			nd.decodeYAML(d, n, key)
			return
		}
	}
	t := v.Type()
	if t == durationType {
		if n.Kind != yaml.ScalarNode {
			d.wrongType(n, key, "duration", "a duration such as 90s, 5m or 1h30m")
			return
		}
		dur, err := time.ParseDuration(n.Value)
		if err != nil {
			d.report(n, key, FieldError{Kind: KindInvalidDuration, Value: n.Value,
				Message: fmt.Sprintf("invalid duration %q: use Go syntax such as 90s, 5m or 1h30m", n.Value)})
			return
		}
		v.SetInt(int64(dur))
		return
	}
	if t == envValueType && n.Kind == yaml.ScalarNode {
		v.Set(reflect.ValueOf(EnvValue{Value: n.Value})) // the short form: a plain value
		return
	}
	switch t.Kind() {
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			d.wrongType(n, key, "string", "a string")
			return
		}
		v.SetString(n.Value)
	case reflect.Bool:
		var b bool
		if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" || n.Decode(&b) != nil {
			d.wrongType(n, key, "bool", "true or false")
			return
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int64:
		var i int64
		if n.Kind != yaml.ScalarNode || n.Tag != "!!int" || n.Decode(&i) != nil || v.OverflowInt(i) {
			d.wrongType(n, key, "integer", "an integer")
			return
		}
		v.SetInt(i)
	case reflect.Pointer:
		p := reflect.New(t.Elem())
		d.decode(n, p.Elem(), key)
		v.Set(p)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.wrongType(n, key, "list", "a list")
			return
		}
		s := reflect.MakeSlice(t, len(n.Content), len(n.Content))
		for i, item := range n.Content {
			d.decode(item, s.Index(i), index(key, i))
		}
		v.Set(s)
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			d.wrongType(n, key, "mapping", "a mapping")
			return
		}
		m := reflect.MakeMap(t)
		for _, p := range d.pairs(n, key) {
			elem := reflect.New(t.Elem()).Elem()
			d.decode(p.value, elem, join(key, p.name))
			m.SetMapIndex(reflect.ValueOf(p.name).Convert(t.Key()), elem)
		}
		v.Set(m)
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			d.wrongType(n, key, "mapping", "a mapping")
			return
		}
		fields := fieldsOf(t)
		for _, p := range d.pairs(n, key) {
			f, ok := fields.byName[p.name]
			if !ok {
				msg := fmt.Sprintf("unknown key %q", p.name)
				s := suggest(p.name, fields.names)
				if s != "" {
					msg += fmt.Sprintf(" (did you mean %q?)", s)
				}
				d.report(p.key, key, FieldError{Kind: KindUnknownKey, Name: p.name, Suggestion: s, Message: msg})
				continue
			}
			d.decode(p.value, v.FieldByIndex(f), join(key, p.name))
		}
	default:
		panic(fmt.Sprintf("config: cannot decode into %s", t)) // a bug in this package
	}
}

// nodeDecoder is a type that reads its own YAML forms (a step may be a
// name or a mapping); it reports problems through d.
type nodeDecoder interface {
	decodeYAML(d *decoder, n *yaml.Node, key string)
}

type pair struct {
	name       string
	key, value *yaml.Node
}

// pairs lists a mapping's keys in order, with YAML merge keys ("<<: *x")
// expanded: explicit keys override merged ones, a key written twice is an
// error, a key that is not a string is an error.
func (d *decoder) pairs(n *yaml.Node, key string) []pair {
	var out []pair
	at := map[string]int{}
	explicit := map[string]bool{}
	var merge func(m *yaml.Node, depth int)
	merge = func(m *yaml.Node, depth int) {
		if m = d.resolve(m, key); m == nil {
			return
		}
		switch {
		case depth > 10:
			d.report(m, key, FieldError{Kind: KindMergeTooDeep, Limit: 10, Message: "merge keys nested too deeply"})
		case m.Kind == yaml.SequenceNode && depth == 0:
			for _, item := range m.Content {
				merge(item, depth+1)
			}
		case m.Kind != yaml.MappingNode:
			d.report(m, key, FieldError{Kind: KindMergeNotMapping, Got: describe(m),
				Message: fmt.Sprintf("a merge key (<<) needs a mapping or a list of mappings, got %s", describe(m))})
		default:
			for i := 0; i+1 < len(m.Content); i += 2 {
				k, v := m.Content[i], m.Content[i+1]
				if k.Tag == "!!merge" {
					merge(v, depth+1)
					continue
				}
				if k.Kind != yaml.ScalarNode {
					continue // reported when that mapping is read directly
				}
				if _, dup := at[k.Value]; !dup {
					at[k.Value] = len(out)
					out = append(out, pair{k.Value, k, v})
				}
			}
		}
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.Tag == "!!merge" {
			merge(v, 0)
		}
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.Tag == "!!merge" {
			continue
		}
		if k.Kind != yaml.ScalarNode || isNull(k) {
			d.report(k, key, FieldError{Kind: KindKeyNotString, Got: describe(k),
				Message: fmt.Sprintf("keys must be plain strings, got %s", describe(k))})
			continue
		}
		if explicit[k.Value] {
			d.report(k, join(key, k.Value), FieldError{Kind: KindDuplicateKey, Name: k.Value,
				Message: fmt.Sprintf("duplicate key %q", k.Value)})
			continue
		}
		explicit[k.Value] = true
		if j, ok := at[k.Value]; ok {
			out[j] = pair{k.Value, k, v}
			continue
		}
		at[k.Value] = len(out)
		out = append(out, pair{k.Value, k, v})
	}
	return out
}

// structFields is the key -> field index table of a struct type.
type structFields struct {
	byName map[string][]int
	names  []string // in declaration order
}

var fieldCache sync.Map // reflect.Type -> *structFields

func fieldsOf(t reflect.Type) *structFields {
	if f, ok := fieldCache.Load(t); ok {
		return f.(*structFields)
	}
	sf := &structFields{byName: map[string][]int{}}
	var walk func(t reflect.Type, prefix []int)
	walk = func(t reflect.Type, prefix []int) {
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			tag := f.Tag.Get("yaml")
			if tag == "-" || !f.IsExported() {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			idx := append(append([]int(nil), prefix...), i)
			if opts == "inline" {
				walk(f.Type, idx)
				continue
			}
			if name == "" {
				continue
			}
			sf.byName[name] = idx
			sf.names = append(sf.names, name)
		}
	}
	walk(t, nil)
	f, _ := fieldCache.LoadOrStore(t, sf)
	return f.(*structFields)
}

// suggest returns the known name closest to an unknown one, if at most two
// edits (of characters, not bytes) away. Names longer than 64 bytes get no
// suggestion, so a huge key costs no quadratic work.
func suggest(name string, known []string) string {
	if len(name) > 64 {
		return ""
	}
	best, bestD := "", 3
	for _, k := range known {
		if len(k) > 64 {
			continue
		}
		if d := levenshtein.ComputeDistance(name, k); d < bestD {
			best, bestD = k, d
		}
	}
	return best
}
