package config

import (
	"fmt"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// EnvPrefix starts every environment variable atoll reads.
const EnvPrefix = "ATOLL_"

// Key describes one server configuration key.
type Key struct {
	// Path is the key in the YAML file, dotted: "github.app_id". Keys of list
	// elements read "policy_sets[].name".
	Path string
	// Env is the environment variable that sets it ("ATOLL_GITHUB_APP_ID")
	// and Flag the command-line flag without its dashes ("github-app-id");
	// both empty for keys only the file can set (maps, lists of objects).
	Env, Flag string
	// Type is string, int, bool, duration, list (comma-separated in the
	// environment and flags), map or objects.
	Type string
	// Default is the default value as text ("" for none).
	Default string
	// Secret marks values never to show.
	Secret bool
	// Doc says what the key does.
	Doc string
}

// Keys returns every server configuration key in file order. cmd/atoll
// defines its flags from the settable ones (Flag non-empty).
func Keys() []Key {
	def := reflect.ValueOf(DefaultServer())
	return keysOf(def.Type(), def, serverDocs, true)
}

// repoKeys returns every atoll.yaml key, for the reference.
func repoKeys() []Key {
	return keysOf(reflect.TypeOf(Repo{}), reflect.Value{}, repoDocs, false)
}

// keysOf lists the keys of a configuration struct; def, when valid, gives
// the defaults; settable keys get an environment variable and a flag.
func keysOf(t reflect.Type, def reflect.Value, docs map[string]string, settable bool) []Key {
	var out []Key
	var walk func(t reflect.Type, v reflect.Value, prefix string, settable bool)
	walk = func(t reflect.Type, v reflect.Value, prefix string, settable bool) {
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			tag := f.Tag.Get("yaml")
			if !f.IsExported() || tag == "" || tag == "-" {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			var fv reflect.Value
			if v.IsValid() {
				fv = v.Field(i)
			}
			if opts == "inline" {
				walk(f.Type, fv, prefix, settable)
				continue
			}
			path := prefix + name
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			k := Key{Path: path, Type: typeName(ft), Doc: docs[path], Secret: secretKeys[path]}
			if fv.IsValid() {
				k.Default = defaultText(fv)
			}
			switch {
			case ft.Kind() == reflect.Struct && ft != durationType:
				if _, documented := docs[path]; documented {
					out = append(out, k)
				}
				walk(ft, fv, path+".", settable)
				continue
			case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
				out = append(out, k)
				walk(ft.Elem(), reflect.Value{}, path+"[].", false)
				continue
			}
			if settable && k.Type != "map" {
				k.Env, k.Flag = envName(path), flagName(path)
			}
			out = append(out, k)
		}
	}
	walk(t, def, "", settable)
	return out
}

// secretKeys are the keys whose values are secrets.
var secretKeys = map[string]bool{"github.private_key": true, "github.webhook_secret": true, "api_token": true,
	"database": true}

func envName(path string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(path, ".", "_"))
}

func flagName(path string) string {
	return strings.NewReplacer(".", "-", "_", "-").Replace(path)
}

func typeName(t reflect.Type) string {
	switch {
	case t == durationType:
		return "duration"
	case t.Kind() == reflect.Map:
		return "map"
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Struct:
		return "objects"
	case t.Kind() == reflect.Slice:
		return "list"
	case t.Kind() == reflect.Int, t.Kind() == reflect.Int64:
		return "int"
	case t.Kind() == reflect.Bool:
		return "bool"
	case t.Kind() == reflect.Struct:
		return "object"
	}
	return "string"
}

func defaultText(v reflect.Value) string {
	switch {
	case v.Type() == durationType:
		if v.Int() == 0 {
			return "0"
		}
		return shortDuration(time.Duration(v.Int()))
	case v.Kind() == reflect.Slice:
		if v.Len() == 0 {
			return ""
		}
		parts := make([]string, v.Len())
		for i := range parts {
			parts[i] = fmt.Sprint(v.Index(i).Interface())
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case v.Kind() == reflect.Bool:
		return strconv.FormatBool(v.Bool())
	case v.Kind() == reflect.Int, v.Kind() == reflect.Int64:
		if v.Int() == 0 {
			return ""
		}
		return strconv.FormatInt(v.Int(), 10)
	case v.Kind() == reflect.String:
		return v.String()
	}
	return ""
}

// shortDuration prints 5m0s as 5m and 1h0m0s as 1h.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// LoadServer builds the server configuration: the defaults, then the YAML
// file at path (none when path is ""), then environment variables looked up
// with env (nil: none; pass os.LookupEnv), then flags (name without dashes,
// or with them, -> value as typed; only the flags actually given). Every key
// of Keys with an Env can be set all three ways: github.app_id <-
// ATOLL_GITHUB_APP_ID <- --github-app-id. An empty environment variable
// counts as unset; lists are comma-separated.
//
// It then reads the secret files (github.private_key_file,
// github.webhook_secret_file, api_token_file) into their values, fills the
// derived defaults and validates. On any problem it returns a
// *ValidationError listing all of them (an unreadable config file is a plain
// error), and a zero Server.
func LoadServer(path string, env func(string) (string, bool), flags map[string]string) (Server, error) {
	s := DefaultServer()
	s.src = sources{}
	errs := &errList{}
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return Server{}, fmt.Errorf("config: read server config: %w", err)
		}
		if root := parseYAML(path, data, errs); root != nil {
			d := &decoder{file: path, errs: errs, src: s.src}
			d.decode(root, reflect.ValueOf(&s).Elem(), "")
			if d.exhausted() {
				return Server{}, errs.err()
			}
		}
	}
	overlay(&s, env, flags, errs)
	s.resolveSecrets(errs)
	s.fillDerived()
	if err := s.Validate(); err != nil {
		errs.errs = append(errs.errs, err.(*ValidationError).Errors...)
	}
	if err := errs.err(); err != nil {
		return Server{}, err
	}
	return s, nil
}

// overlay applies environment variables, then flags.
func overlay(s *Server, env func(string) (string, bool), flags map[string]string, errs *errList) {
	byFlag := map[string]Key{}
	keys := Keys()
	for _, k := range keys {
		if k.Flag != "" {
			byFlag[k.Flag] = k
		}
	}
	given := map[string]string{}
	for name, v := range flags {
		name = strings.TrimLeft(name, "-")
		k, ok := byFlag[name]
		if !ok {
			errs.add(FieldError{File: "--" + name, Kind: KindInvalid, Message: "unknown flag"})
			continue
		}
		given[k.Path] = v
	}
	root := reflect.ValueOf(s).Elem()
	for _, k := range keys {
		if k.Env == "" {
			continue
		}
		var o origin
		v, ok := given[k.Path]
		if ok {
			o = origin{file: "--" + k.Flag}
		} else if env != nil {
			if v, ok = env(k.Env); ok && v == "" {
				ok = false
			}
			o = origin{file: "$" + k.Env}
		}
		if !ok {
			continue
		}
		if err := setText(fieldByPath(root, k.Path), v); err != nil {
			errs.add(FieldError{File: o.file, Key: k.Path, Kind: KindInvalid, Message: err.Error()})
			continue
		}
		s.src.replace(k.Path, o)
	}
}

// fieldByPath finds the field for a dotted key, through inline structs.
func fieldByPath(v reflect.Value, path string) reflect.Value {
	for _, name := range strings.Split(path, ".") {
		v = v.FieldByIndex(fieldsOf(v.Type()).byName[name])
	}
	return v
}

// setText parses text into a settable scalar or list field.
func setText(v reflect.Value, text string) error {
	t := v.Type()
	switch {
	case t == durationType:
		d, err := time.ParseDuration(text)
		if err != nil {
			return fmt.Errorf("invalid duration %q: use Go syntax such as 90s, 5m or 1h30m", text)
		}
		v.SetInt(int64(d))
	case t.Kind() == reflect.String:
		v.SetString(text)
	case t.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(text)
		if err != nil {
			return fmt.Errorf("expected true or false, got %q", text)
		}
		v.SetBool(b)
	case t.Kind() == reflect.Int, t.Kind() == reflect.Int64:
		i, err := strconv.ParseInt(text, 10, 64)
		if err != nil || v.OverflowInt(i) {
			return fmt.Errorf("expected an integer, got %q", text)
		}
		v.SetInt(i)
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.String:
		s := reflect.MakeSlice(t, 0, 4)
		for _, part := range strings.Split(text, ",") {
			if part = strings.TrimSpace(part); part != "" {
				s = reflect.Append(s, reflect.ValueOf(part).Convert(t.Elem()))
			}
		}
		v.Set(s)
	default:
		return fmt.Errorf("cannot be set from text")
	}
	return nil
}

// resolveSecrets reads the *_file keys into their values.
func (s *Server) resolveSecrets(errs *errList) {
	c := checker{src: s.src, errs: errs}
	read := func(value *string, file, key, fileKey string) {
		if file == "" {
			return
		}
		if *value != "" {
			c.errorf(fileKey, "set either %s or %s, not both", key, fileKey)
			return
		}
		data, err := os.ReadFile(file)
		if err != nil {
			c.errorf(fileKey, "cannot read: %v", err)
			return
		}
		v := strings.TrimRight(string(data), "\r\n")
		if strings.TrimSpace(v) == "" {
			c.errorf(fileKey, "file %s is empty", file)
			return
		}
		*value = v
	}
	read(&s.GitHub.PrivateKey, s.GitHub.PrivateKeyFile, "github.private_key", "github.private_key_file")
	read(&s.GitHub.WebhookSecret, s.GitHub.WebhookSecretFile, "github.webhook_secret", "github.webhook_secret_file")
	read(&s.GitHub.ClientSecret, s.GitHub.ClientSecretFile, "github.client_secret", "github.client_secret_file")
	read(&s.APIToken, s.APITokenFile, "api_token", "api_token_file")
	read(&s.Database, s.DatabaseFile, "database", "database_file")
	// A key pasted into an environment variable often has its newlines
	// written as \n.
	if k := s.GitHub.PrivateKey; !strings.Contains(k, "\n") && strings.Contains(k, `\n`) {
		s.GitHub.PrivateKey = strings.ReplaceAll(k, `\n`, "\n")
	}
}
