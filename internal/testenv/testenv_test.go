package testenv

import (
	"os"
	"testing"
)

func TestMaySkip(t *testing.T) {
	ci := os.Getenv("CI")
	defer os.Setenv("CI", ci)
	os.Setenv("CI", "true")
	if MaySkip() {
		t.Error("MaySkip is true in CI")
	}
	os.Setenv("CI", "")
	if got := MaySkip(); got != testing.Short() {
		t.Errorf("MaySkip outside CI = %v, want testing.Short() = %v", got, testing.Short())
	}
}

func TestMissingFailsOutsideShort(t *testing.T) {
	if MaySkip() {
		t.Skip("this run may skip: nothing to check")
	}
	ft := &fakeTB{TB: t}
	func() {
		defer func() { recover() }()
		Missing(ft, "x")
	}()
	if !ft.failed || ft.skipped {
		t.Errorf("Missing outside -short: failed=%v skipped=%v, want a failure", ft.failed, ft.skipped)
	}
}

// fakeTB records Fatalf/Skipf instead of ending the test.
type fakeTB struct {
	testing.TB
	failed, skipped bool
}

func (f *fakeTB) Helper()               {}
func (f *fakeTB) Fatalf(string, ...any) { f.failed = true; panic("fatal") }
func (f *fakeTB) Skipf(string, ...any)  { f.skipped = true; panic("skip") }
