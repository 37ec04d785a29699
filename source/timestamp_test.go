package source

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/pcapq/pcapq/internal/pcaptest"
	"github.com/pcapq/pcapq/internal/testenv"
)

// Time fields that are no time (a pcap fraction over a second, a pcapng
// time past 2262, what int64 nanoseconds hold) give records without a
// time and a bad_timestamp warning at the record's offset, never a wrapped
// or carried-over time. Where the time is a time, it is tshark's
// frame.time_epoch; where it is not, tshark prints a fraction of more than
// nine digits or a time past 2262 (checked when tshark is installed).
func TestBadTimestamps(t *testing.T) {
	for _, tc := range pcaptest.BadTimestamps() {
		t.Run(tc.Name, func(t *testing.T) {
			rd := mustReader(t, tc.File)
			got, err := readAll(t, rd)
			if err != io.EOF || len(got) != len(tc.Want) {
				t.Fatalf("%d records, err %v", len(got), err)
			}
			var bad []int64
			for i, r := range got {
				if r.Warned != (tc.Want[i] < 0) {
					t.Errorf("record %d: Warned %v, want it on the records with a warning", i, r.Warned)
				}
				if tc.Want[i] < 0 {
					bad = append(bad, r.Offset)
					if !r.NoTs || r.Ts != 0 {
						t.Errorf("record %d: NoTs %v Ts %d, want no time", i, r.NoTs, r.Ts)
					}
				} else if r.NoTs || r.Ts != tc.Want[i] {
					t.Errorf("record %d: NoTs %v Ts %d, want %d", i, r.NoTs, r.Ts, tc.Want[i])
				}
			}
			var warned []int64
			for _, w := range rd.Warnings() {
				if w.Kind != KindBadTimestamp {
					t.Errorf("warning %+v", w)
				}
				warned = append(warned, w.Offset)
			}
			if !slices.Equal(warned, bad) {
				t.Errorf("bad_timestamp warnings at offsets %v, want one at each record without a time %v", warned, bad)
			}

			testenv.Tool(t, "tshark")
			path := filepath.Join(t.TempDir(), "ts")
			if err := os.WriteFile(path, tc.File, 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command("tshark", "-n", "-r", path, "-T", "fields", "-e", "frame.time_epoch").Output()
			if err != nil {
				t.Fatalf("tshark: %v", err)
			}
			lines := strings.Fields(string(out))
			if len(lines) != len(got) {
				t.Fatalf("tshark prints %d times, want %d", len(lines), len(got))
			}
			for i, s := range lines {
				sec, frac, _ := strings.Cut(s, ".")
				n, err := strconv.ParseInt(sec, 10, 64)
				if tc.Want[i] >= 0 {
					if w := parseEpochNs(t, s); w != got[i].Ts {
						t.Errorf("record %d: %d ns, tshark %s", i, got[i].Ts, s)
					}
					continue
				}
				if len(frac) <= 9 && err == nil && n >= 0 && n < 9_223_372_036 {
					t.Errorf("record %d has no time here, but tshark reads the time %s", i, s)
				}
			}
		})
	}
}
