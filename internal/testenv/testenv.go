// Package testenv decides what a test does when something it measures
// against is missing: the external corpus (../shared/corpus) or a peer tool
// (tshark, tcpdump, capinfos, ...).
//
// A conformance test that cannot run is not a pass. Under `make test` and in
// CI (CI=true) a missing prerequisite fails the test with a message that says
// what to install; only a local `go test -short` run (CI unset) may skip, and
// the skip says loudly what was not checked. The package imports nothing of
// pcapq, so every package's tests can use it.
package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// CI reports whether the tests run in CI (the CI variable set to true, as
// CI services and .ci/run set it).
func CI() bool { return os.Getenv("CI") == "true" }

// MaySkip reports whether a missing prerequisite may skip a test: only in a
// local -short run.
func MaySkip() bool { return testing.Short() && !CI() }

// Missing ends the test because a prerequisite is absent: a skip in a local
// -short run, a failure otherwise. msg says what is missing and how to get
// it.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if MaySkip() {
		t.Skipf("SKIPPED, NOT CHECKED: %s (allowed only with -short outside CI)", msg)
	}
	t.Fatalf("missing prerequisite: %s (a -short run outside CI may skip this)", msg)
}

// debPackage names the Debian package of each peer tool.
var debPackage = map[string]string{
	"tshark":    "tshark",
	"capinfos":  "tshark",
	"tcpdump":   "tcpdump",
	"tcpflow":   "tcpflow",
	"ngrep":     "ngrep",
	"node":      "nodejs",
	"npm":       "npm",
	"chromium":  "chromium",
	"cmark-gfm": "cmark-gfm",
}

// Tool returns the path of a peer tool, or ends the test through Missing
// with the package to install.
func Tool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		pkg := debPackage[name]
		if pkg == "" {
			pkg = name
		}
		Missing(t, "%s not installed: `make deps` or `apt-get install %s` installs it", name, pkg)
	}
	return p
}

// FindCorpus walks up from the working directory to a shared/corpus folder
// holding capinfos.tsv and pcaps/.
func FindCorpus() (string, bool) {
	dir, err := filepath.Abs(".")
	if err != nil {
		return "", false
	}
	for {
		c := filepath.Join(dir, "shared", "corpus")
		if st, err := os.Stat(filepath.Join(c, "pcaps")); err == nil && st.IsDir() {
			if _, err := os.Stat(filepath.Join(c, "capinfos.tsv")); err == nil {
				return c, true
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}

// Corpus returns the external corpus folder, or ends the test through
// Missing.
func Corpus(t testing.TB) string {
	t.Helper()
	c, ok := FindCorpus()
	if !ok {
		Missing(t, "external corpus not found: the tests expect the steering repo's shared/ beside this repository (../shared/corpus)")
	}
	return c
}
