//go:build duckdb_arrow

package query

import (
	"context"
	"fmt"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pcapq/pcapq/decode"
	"github.com/pcapq/pcapq/schema"
)

// memDB is an in-memory database with pcapq's schema, closed with the test.
func memDB(t *testing.T) *DB {
	t.Helper()
	db, err := Open(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.EnsureSchema(context.Background()); err != nil {
		t.Fatal(err)
	}
	return db
}

// The views and their data tables have exactly the documented columns and
// types.
func TestViewColumns(t *testing.T) {
	ctx := context.Background()
	db := memDB(t)
	for _, tb := range []*schema.Table{schema.Packets, schema.PacketsData, schema.HTTP, schema.HTTPData} {
		rows, err := db.Query(ctx, "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position", tb.Name)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for rows.Next() {
			var n, ty string
			if err := rows.Scan(&n, &ty); err != nil {
				t.Fatal(err)
			}
			got = append(got, n+" "+ty)
		}
		rows.Close()
		var want []string
		for _, c := range tb.Columns {
			want = append(want, c.Name+" "+schema.SQLType(c.Type))
		}
		if strings.Join(got, ", ") != strings.Join(want, ", ") {
			t.Errorf("%s columns:\n got  %s\n want %s", tb.Name, strings.Join(got, ", "), strings.Join(want, ", "))
		}
	}
}

// The view formats stored numbers exactly as the Go code formats addresses
// and flags: every flag combination, MACs and IPv4 addresses at the edges.
func TestPacketsViewFormatting(t *testing.T) {
	ctx := context.Background()
	db := memDB(t)
	macs := [][6]byte{{}, {0, 1, 2, 3, 4, 5}, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, {0x02, 0x5a, 0x5e, 0xce, 0x95, 0x2d}, {0x0a, 0, 0, 0, 0, 0xb0}}
	ips := []string{"0.0.0.0", "255.255.255.255", "10.78.0.1", "192.0.2.10", "1.0.0.0", "0.0.0.1", "::1", "fd00:78::2", "::ffff:1.2.3.4", "2001:db8::1:0:0:1"}
	frame := 0
	for f := 0; f < 512; f++ {
		mac := macs[f%len(macs)]
		ip := netip.MustParseAddr(ips[f%len(ips)])
		var m uint64
		for _, x := range mac {
			m = m<<8 | uint64(x)
		}
		ip4, ip6 := "NULL", "NULL"
		if ip.Is4() {
			a := ip.As4()
			ip4 = fmt.Sprint(uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3]))
		} else {
			ip6 = "'" + ip.String() + "'"
		}
		frame++
		q := fmt.Sprintf("INSERT INTO packets_data (capture_id, frame, eth_src_int, src_ip4, src_ip6, tcp_flags_bits, from_resp) VALUES (1, %d, %d, %s, %s, %d, %v)",
			frame, m, ip4, ip6, f, f%2 == 1)
		if err := db.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
		var gotMAC, gotIP, gotFlags, gotDir string
		var bits uint16
		row := db.conn.QueryRowContext(ctx, "SELECT eth_src, src_ip, tcp_flags, tcp_flags_bits, direction FROM packets WHERE frame = ?", frame)
		if err := row.Scan(&gotMAC, &gotIP, &gotFlags, &bits, &gotDir); err != nil {
			t.Fatal(err)
		}
		wantMAC := fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5])
		wantDir := map[bool]string{false: "orig", true: "resp"}[f%2 == 1]
		if gotMAC != wantMAC || gotIP != ip.String() || gotFlags != decode.FlagsText(uint16(f)) || bits != uint16(f) || gotDir != wantDir {
			t.Errorf("flags %#x: view gives %q %q %q %d %q, want %q %q %q %d %q", f, gotMAC, gotIP, gotFlags, bits, gotDir,
				wantMAC, ip, decode.FlagsText(uint16(f)), f, wantDir)
		}
	}
	// NULLs stay NULL.
	if err := db.Exec(ctx, "INSERT INTO packets_data (capture_id, frame) VALUES (1, 100000)"); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.conn.QueryRowContext(ctx, "SELECT count(*) FROM packets WHERE frame = 100000 AND eth_src IS NULL AND src_ip IS NULL AND tcp_flags IS NULL AND direction IS NULL").Scan(&n); err != nil || n != 1 {
		t.Errorf("NULL columns: %d rows, %v", n, err)
	}
}

// A database whose packets or http is a table (written before they became
// views) gets a clear error, not a half-migrated schema.
func TestOldTableRefused(t *testing.T) {
	for _, name := range []string{"packets", "http"} {
		ctx := context.Background()
		path := filepath.Join(t.TempDir(), "old.duckdb")
		db, err := Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Exec(ctx, "CREATE TABLE "+name+" (capture_id INTEGER)"); err != nil {
			t.Fatal(err)
		}
		err = db.EnsureSchema(ctx)
		if err == nil || !strings.Contains(err.Error(), "older pcapq") || !strings.Contains(err.Error(), "old.duckdb") || !strings.Contains(err.Error(), name+" is a table") {
			t.Errorf("EnsureSchema on an old database with a %s table: %v", name, err)
		}
		db.Close()
	}
}

// A database file pcapq creates uses the storage version it names (newer
// string compression, readable by DuckDB >= 1.3), and one created with an
// older version keeps its version when pcapq writes to it.
func TestStorageVersion(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	version := func(path string) any {
		t.Helper()
		db, err := Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if err := db.EnsureSchema(ctx); err != nil {
			t.Fatal(err)
		}
		v, err := db.Scalar(ctx, "SELECT tags['storage_version'] FROM duckdb_databases() WHERE database_name = current_database()")
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if v := version(filepath.Join(dir, "v.duckdb")); v != storageVersion+"+" {
		t.Errorf("storage version of a new file: %v, want %s+", v, storageVersion)
	}
	old := filepath.Join(dir, "old.duckdb")
	db, err := Open(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Exec(ctx, "ATTACH "+sqlString(old)+" AS o (STORAGE_VERSION 'v1.0.0')"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if v := version(old); v != "v1.0.0+" {
		t.Errorf("storage version of an existing v1.0.0 file opened by pcapq: %v", v)
	}
}
