package terraform

import (
	"os"
	"reflect"
	"sync"
	"time"
	"unsafe"

	"github.com/hashicorp/go-version"
	"github.com/hashicorp/terraform-exec/tfexec"
)

// The version of a binary, asked once per binary rather than once per
// Workdir. terraform-exec asks "version -json" before most commands (the
// flags it passes depend on it) and caches the answer in its Terraform
// value; every job makes a new Workdir, so without this cache every job
// starts terraform once more only to learn what it already knows.
//
// terraform-exec offers no way to give a Terraform value a version it
// did not ask for itself, so seedVersion writes its two cache fields
// (execVersion, provVersions) by reflection. When a terraform-exec
// upgrade renames them, seedVersion reports false and the Workdir asks
// terraform as before: slower, never wrong. TestVersionCacheSeeds checks
// the seeding works with the pinned terraform-exec.

// versionKey names one binary file: its path, size and modification
// time, so that a binary replaced in place is asked again.
type versionKey struct {
	path  string
	size  int64
	mtime time.Time
}

type knownVersion struct {
	exec  *version.Version
	provs map[string]*version.Version
}

var versionCache sync.Map // versionKey -> knownVersion

func binaryKey(path string) (versionKey, bool) {
	fi, err := os.Stat(path)
	if err != nil {
		return versionKey{}, false
	}
	return versionKey{path: path, size: fi.Size(), mtime: fi.ModTime()}, true
}

// cachedVersion seeds tf with the version known for the binary at path;
// false when none is known or it could not be seeded.
func cachedVersion(tf *tfexec.Terraform, path string) bool {
	k, ok := binaryKey(path)
	if !ok {
		return false
	}
	v, ok := versionCache.Load(k)
	if !ok {
		return false
	}
	kv := v.(knownVersion)
	return seedVersion(tf, kv.exec, kv.provs)
}

// rememberVersion keeps the version tf learned for the binary at path.
func rememberVersion(path string, exec *version.Version, provs map[string]*version.Version) {
	if k, ok := binaryKey(path); ok && exec != nil {
		versionCache.Store(k, knownVersion{exec: exec, provs: provs})
	}
}

// seedVersion sets terraform-exec's cached version of tf.
func seedVersion(tf *tfexec.Terraform, exec *version.Version, provs map[string]*version.Version) bool {
	v := reflect.ValueOf(tf).Elem()
	ev := v.FieldByName("execVersion")
	pv := v.FieldByName("provVersions")
	if !ev.IsValid() || !pv.IsValid() || ev.Type() != reflect.TypeOf(exec) || pv.Type() != reflect.TypeOf(provs) {
		return false
	}
	reflect.NewAt(ev.Type(), unsafe.Pointer(ev.UnsafeAddr())).Elem().Set(reflect.ValueOf(exec))
	reflect.NewAt(pv.Type(), unsafe.Pointer(pv.UnsafeAddr())).Elem().Set(reflect.ValueOf(provs))
	return true
}
