package server

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/atollhq/atoll/locks"
)

// Scope is what an API token may do; each includes the ones before it.
type Scope string

// The scopes: read reads runs, jobs, locks, drift and the audit trail;
// write also starts drift runs and releases locks; admin also manages
// tokens and the apply lock.
const (
	ScopeRead  Scope = "read"
	ScopeWrite Scope = "write"
	ScopeAdmin Scope = "admin"
)

var scopeRank = map[Scope]int{ScopeRead: 1, ScopeWrite: 2, ScopeAdmin: 3}

// ParseScope checks a scope's name.
func ParseScope(s string) (Scope, error) {
	if scopeRank[Scope(s)] == 0 {
		return "", fmt.Errorf("unknown scope %q: use read, write or admin", s)
	}
	return Scope(s), nil
}

// Covers reports whether a token with scope s may do what needs need.
func (s Scope) Covers(need Scope) bool { return scopeRank[s] >= scopeRank[need] }

// Token is an API token as stored: its secret only as a SHA-256.
type Token struct {
	Name     string    `json:"name"`
	Scope    Scope     `json:"scope"`
	Hash     string    `json:"hash"`
	Created  time.Time `json:"created"`
	Expires  time.Time `json:"expires,omitempty"`
	LastUsed time.Time `json:"last_used,omitempty"`
}

// RecordStore is the part of the database tokens live in; locks.Records
// implements it.
type RecordStore interface {
	GetRecord(ctx context.Context, bucket, key string) ([]byte, bool, error)
	PutRecord(ctx context.Context, bucket, key string, value []byte) error
	DeleteRecord(ctx context.Context, bucket, key string) error
	ListRecords(ctx context.Context, bucket, prefix string) ([]locks.Record, error)
}

// Tokens manages API tokens in a RecordStore.
type Tokens struct{ Store RecordStore }

const bucketTokens = "apitokens"

// tokenPrefix marks atoll's API tokens, so a leaked one is recognisable.
const tokenPrefix = "atl_"

var tokenName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// ErrTokenExists and ErrNoToken are Create's and Revoke's errors.
var (
	ErrTokenExists = errors.New("a token of that name exists")
	ErrNoToken     = errors.New("no token of that name")
)

func hashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// Create makes a token and returns its secret, which is stored only as a
// hash: it cannot be shown again. ttl 0: it never expires.
func (t Tokens) Create(ctx context.Context, name string, scope Scope, ttl time.Duration, now time.Time) (string, Token, error) {
	if !tokenName.MatchString(name) {
		return "", Token{}, fmt.Errorf("token name %q: use letters, digits, '.', '_' and '-' (up to 64)", name)
	}
	if _, ok, err := t.Store.GetRecord(ctx, bucketTokens, name); err != nil {
		return "", Token{}, err
	} else if ok {
		return "", Token{}, fmt.Errorf("%w: %s", ErrTokenExists, name)
	}
	secret := tokenPrefix + randomHex(32)
	tok := Token{Name: name, Scope: scope, Hash: hashSecret(secret), Created: now.UTC()}
	if ttl > 0 {
		tok.Expires = now.Add(ttl).UTC()
	}
	b, _ := json.Marshal(tok)
	return secret, tok, t.Store.PutRecord(ctx, bucketTokens, name, b)
}

// List returns every token, by name.
func (t Tokens) List(ctx context.Context) ([]Token, error) {
	recs, err := t.Store.ListRecords(ctx, bucketTokens, "")
	if err != nil {
		return nil, err
	}
	out := make([]Token, 0, len(recs))
	for _, r := range recs {
		var tok Token
		if err := json.Unmarshal(r.Value, &tok); err != nil {
			return nil, fmt.Errorf("token %s: %w", r.Key, err)
		}
		out = append(out, tok)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Revoke deletes a token.
func (t Tokens) Revoke(ctx context.Context, name string) error {
	if _, ok, err := t.Store.GetRecord(ctx, bucketTokens, name); err != nil {
		return err
	} else if !ok {
		return fmt.Errorf("%w: %s", ErrNoToken, name)
	}
	return t.Store.DeleteRecord(ctx, bucketTokens, name)
}

// Check finds the token whose secret is given; expired tokens do not
// count. It records the use (at most once a minute per token).
func (t Tokens) Check(ctx context.Context, secret string, now time.Time) (Token, bool) {
	if !strings.HasPrefix(secret, tokenPrefix) || t.Store == nil {
		return Token{}, false
	}
	toks, err := t.List(ctx)
	if err != nil {
		return Token{}, false
	}
	h := hashSecret(secret)
	for _, tok := range toks {
		if subtle.ConstantTimeCompare([]byte(tok.Hash), []byte(h)) != 1 {
			continue
		}
		if !tok.Expires.IsZero() && !now.Before(tok.Expires) {
			return Token{}, false
		}
		if now.Sub(tok.LastUsed) > time.Minute {
			tok.LastUsed = now.UTC()
			b, _ := json.Marshal(tok)
			_ = t.Store.PutRecord(ctx, bucketTokens, tok.Name, b)
		}
		return tok, true
	}
	return Token{}, false
}
