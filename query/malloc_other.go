//go:build !(linux && cgo)

package query

import (
	"fmt"
	"unsafe"
)

func tuneGlibcMalloc() error {
	return fmt.Errorf("%w: not linux with cgo", ErrNotAvailable)
}

func jemallocKeepFreed(sym string) error {
	_, err := lookupMallctl(sym)
	return err
}

func lookupMallctl(sym string) (unsafe.Pointer, error) {
	return nil, fmt.Errorf("%w: no %s lookup on this platform", ErrNotAvailable, sym)
}

func jemallocDecay(sym, key string) (int64, error) {
	_, err := lookupMallctl(sym)
	return 0, err
}

func largeMallocMapped() (bool, error) { return false, ErrNotAvailable }
