package report

import (
	"context"
	"strings"
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

// Every figure says what it measures: each section, key figure, chart
// (with its axes) and table has a title and a description.
func TestEveryFigureSaysWhatItMeasures(t *testing.T) {
	db := openDB(t, "", smallMix)
	r, err := Build(context.Background(), db, Options{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, s := range r.Sections {
		if s.Title == "" || s.Doc == "" {
			t.Errorf("section %s: title %q, doc %q", s.ID, s.Title, s.Doc)
		}
		for _, st := range s.Stats {
			n++
			if st.Label == "" || len(st.Doc) < 15 {
				t.Errorf("figure %s: label %q, doc %q", st.ID, st.Label, st.Doc)
			}
		}
		for _, c := range s.Charts {
			n++
			if c.Title == "" || len(c.Doc) < 30 || c.XLabel == "" || c.YLabel == "" || c.Data == nil || c.Data.Doc == "" {
				t.Errorf("chart %s: title %q, doc %q, axes %q %q, data %v", c.ID, c.Title, c.Doc, c.XLabel, c.YLabel, c.Data)
			}
		}
		for _, tb := range s.Tables {
			n++
			if tb.Title == "" || len(tb.Doc) < 30 {
				t.Errorf("table %s: title %q, doc %q", tb.ID, tb.Title, tb.Doc)
			}
			for _, c := range tb.Columns {
				if c.Name == "" {
					t.Errorf("table %s has a column without name", tb.ID)
				}
			}
		}
	}
	if n < 50 {
		t.Errorf("only %d figures", n)
	}
}

// A database without pcapq's tables is named as such.
func TestNotPcapqDatabase(t *testing.T) {
	db := openDB(t, "")
	if err := db.Exec(context.Background(), "DROP VIEW http; DROP VIEW retransmits; DROP TABLE tcp_events"); err != nil {
		t.Fatal(err)
	}
	_, err := Build(context.Background(), db, Options{})
	if err == nil || !strings.Contains(err.Error(), "not a pcapq database: no table tcp_events, http") {
		t.Errorf("error %v", err)
	}
}

// A capture still being written (pcapq capture --serve) has rows in every
// table but no captures row yet: the report counts its packets and draws
// its traffic all the same.
func TestReportWithoutCapturesRow(t *testing.T) {
	db := openDB(t, "", hostileCapture(t))
	if err := db.Exec(context.Background(), "DELETE FROM captures"); err != nil {
		t.Fatal(err)
	}
	r, err := Build(context.Background(), db, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := findStat(r, "packets"); v != int64(7) { // handshake and 4 segments
		t.Errorf("packets %v, want 7", v)
	}
	if c := findChart(r, "packets_per_s"); c == nil || len(c.Series) == 0 {
		t.Errorf("no traffic chart")
	}
	if v, _ := findStat(r, "transactions"); v != int64(2) {
		t.Errorf("transactions %v, want 2", v)
	}
}
