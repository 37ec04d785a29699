package testenv

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// allowedSkip matches the skips that are not about a missing peer tool or
// corpus: -short runs, platforms without a feature, this package's own, and
// a skip marked "// skip-ok: why" on its line.
var allowedSkip = regexp.MustCompile(`testing\.Short\(\)|-short|no arena on this platform|this run may skip|on this platform|kernel without|// skip-ok: `)

// TestNoSilentSkips walks the module's tests: a t.Skip must not stand
// where a missing tool or corpus should fail (use Tool, Corpus or Missing),
// so a conformance test cannot pass by measuring nothing.
func TestNoSilentSkips(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	skip := regexp.MustCompile(`\bt\.Skip(f|Now)?\(`)
	checked := 0
	err = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "node_modules" || d.Name() == "bin") {
			return filepath.SkipDir
		}
		if !strings.HasSuffix(path, "_test.go") || strings.HasSuffix(path, "testenv/testenv_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		checked++
		lines := strings.Split(string(b), "\n")
		for i, l := range lines {
			if !skip.MatchString(l) {
				continue
			}
			// The skip's reason may stand on this line or the condition
			// just above it.
			ctx := l
			if i > 0 {
				ctx = lines[i-1] + "\n" + l
			}
			if !allowedSkip.MatchString(ctx) {
				rel, _ := filepath.Rel(root, path)
				t.Errorf("%s:%d: t.Skip for something other than -short: use testenv.Tool/Corpus/Missing so that a missing prerequisite fails under make test and CI\n\t%s", rel, i+1, strings.TrimSpace(l))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 20 {
		t.Fatalf("read only %d test files under %s", checked, root)
	}
}
