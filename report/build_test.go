package report

import (
	"context"
	"testing"
	"time"
)

// Time buckets: the smallest round width that keeps a chart at most
// maxTimeBuckets points.
func TestBucketWidth(t *testing.T) {
	for _, c := range []struct {
		span time.Duration
		want time.Duration
	}{
		{0, time.Millisecond},
		{299 * time.Millisecond, time.Millisecond},
		{300 * time.Millisecond, 2 * time.Millisecond},
		{11 * time.Second, 50 * time.Millisecond},
		{10 * time.Minute, 5 * time.Second},
		{599 * time.Second, 2 * time.Second},
		{299 * 24 * time.Hour, 24 * time.Hour},
		{300 * 24 * time.Hour, 2 * 24 * time.Hour},
		{3 * 365 * 24 * time.Hour, 4 * 24 * time.Hour},
	} {
		w := bucketWidth(int64(c.span))
		if time.Duration(w) != c.want {
			t.Errorf("bucketWidth(%v) = %v, want %v", c.span, time.Duration(w), c.want)
		}
		if int64(c.span)/w >= maxTimeBuckets {
			t.Errorf("bucketWidth(%v) = %v gives %d buckets", c.span, time.Duration(w), int64(c.span)/w+1)
		}
	}
}

// An empty database reports empty sections with a note, not an error.
func TestEmptyDatabase(t *testing.T) {
	db := openDB(t, "")
	r, err := Build(context.Background(), db, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Sections) != 4 {
		t.Fatalf("%d sections", len(r.Sections))
	}
	for _, s := range r.Sections {
		if s.Note == "" {
			t.Errorf("section %s has no note saying it is empty", s.ID)
		}
	}
	if _, err := Build(context.Background(), db, Options{Top: maxTop + 1}); err == nil {
		t.Error("--top past maxTop accepted")
	}
}
