//go:build duckdb_arrow

package metrics

import (
	"context"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/pcapq/pcapq/query"
)

func memDB(t testing.TB) *query.DB {
	t.Helper()
	db, err := query.Open(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// sqlEndpoint computes EndpointSQL's host and path in DuckDB.
func sqlEndpoint(t testing.TB, db *query.DB, host, path, server string) (string, string) {
	t.Helper()
	h, p := EndpointSQL("$1", "$2", "$3")
	rows, err := db.Query(context.Background(), "SELECT "+h+", "+p, host, path, server)
	if err != nil {
		t.Fatalf("%q %q %q: %v", host, path, server, err)
	}
	defer rows.Close()
	var gh, gp string
	if !rows.Next() {
		t.Fatalf("no row: %v", rows.Err())
	}
	if err := rows.Scan(&gh, &gp); err != nil {
		t.Fatal(err)
	}
	return gh, gp
}

var endpointSeeds = [][3]string{
	{"Example.TEST", "/api/v2/items/17", "10.0.0.1"},
	{"example.test:80", "/x/123e4567-e89b-12d3-a456-426614174000/y", ""},
	{"example.test.", "/0123456789abcdef/17.json", ""},
	{"", "/x", "10.0.0.1"},
	{"", "", ""},
	{"[fd00::1]:80", "/", ""},
	{"", "http://Proxy.Example/a/17", "10.0.0.1"},
	{"h", "HTTPS://other/b", ""},
	{"", "http://onlyhost", "10.0.0.2"},
	{"", "http:///p", "10.0.0.9"},
	{"", "host:443", "10.0.0.1"},
	{"ÄBC", "/über/17", ""},
	{"a:80:80", "//17//", ""},
	{"x", "/17.png.bak/abcdef012345", ""},
	{"x", "/ 17/17 /17", ""},
	{"x", "/a\\17/\\x00", ""},
	{"x.:80", "/%31%37", ""},
	{"X", "17", ""},
}

// TestEndpointSQLMatchesGo holds the SQL form of the endpoint key (used
// to group in DuckDB) to EndpointKey, the definition.
func TestEndpointSQLMatchesGo(t *testing.T) {
	db := memDB(t)
	for _, s := range endpointSeeds {
		want := EndpointKey("GET", s[0], s[1], s[2])
		h, p := sqlEndpoint(t, db, s[0], s[1], s[2])
		if h != want.Host || p != want.Path {
			t.Errorf("EndpointSQL(%q, %q, %q) = %q %q, EndpointKey says %q %q", s[0], s[1], s[2], h, p, want.Host, want.Path)
		}
	}
}

// FuzzEndpointSQL: the SQL form and EndpointKey agree on any text the
// database can hold (valid UTF-8 without NUL, as schema.ValidText stores it).
func FuzzEndpointSQL(f *testing.F) {
	for _, s := range endpointSeeds {
		f.Add(s[0], s[1], s[2])
	}
	db := memDB(f)
	f.Fuzz(func(t *testing.T, host, path, server string) {
		for _, s := range []string{host, path, server} {
			if !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
				t.Skip("the database holds valid UTF-8 without NUL only") // skip-ok: fuzz input outside the domain
			}
		}
		want := EndpointKey("GET", host, path, server)
		h, p := sqlEndpoint(t, db, host, path, server)
		if h != want.Host || p != want.Path {
			t.Errorf("EndpointSQL(%q, %q, %q) = %q %q, EndpointKey says %q %q", host, path, server, h, p, want.Host, want.Path)
		}
	})
}
