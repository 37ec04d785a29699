//go:build !(linux && cgo && duckdb_arrow && (amd64 || arm64) && !nommapwrap)

package query

import "fmt"

// adviseHugePages is not available without the link's mmap wrapper (see
// hugepages.go): another platform, or a build with the nommapwrap tag.
func adviseHugePages(on bool) error {
	if !on {
		return nil
	}
	return fmt.Errorf("%w: built without the mmap wrapper (tag nommapwrap, or not linux/amd64 or arm64)", ErrNotAvailable)
}

// probeHugePageAdvice: no wrapper, so nothing is advised.
func probeHugePageAdvice() (bool, error) { return false, nil }
