//go:build !linux

package ingest

// newArena has no huge-page arena outside Linux: the pool uses Go memory.
func newArena(size int) *arena { return nil }
