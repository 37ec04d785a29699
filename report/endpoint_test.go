package report

import (
	"context"
	"testing"
)

var endpointCases = []struct{ method, host, path, want string }{
	{"GET", "example.com", "/api/items/17", "GET example.com /api/items/{id}"},
	{"GET", "example.com", "/api/items/17/parts/42", "GET example.com /api/items/{id}/parts/{id}"},
	{"GET", "example.com", "/api/items/17?x=1", "GET example.com /api/items/{id}"},
	{"GET", "h", "/u/3f2504e0-4f89-11d3-9a0c-0305e82c3301/x", "GET h /u/{id}/x"},
	{"GET", "h", "/u/3F2504E0-4F89-11D3-9A0C-0305E82C3301", "GET h /u/{id}"},
	{"GET", "h", "/blob/0123456789ab", "GET h /blob/{id}"},       // 12 hex digits
	{"GET", "h", "/blob/0123456789a", "GET h /blob/0123456789a"}, // 11: kept
	{"GET", "h", "/blob/0123456789abcdeg", "GET h /blob/0123456789abcdeg"},
	{"GET", "h", "/v2/items", "GET h /v2/items"}, // not all digits
	{"GET", "h", "/12abc", "GET h /12abc"},
	{"POST", "h", "/", "POST h /"},
	{"GET", "h", "", "GET h "},
	{"GET", "", "/a/1", "GET  /a/{id}"},
	{"GET", "h", "//1//", "GET h //{id}//"},
	{"OPTIONS", "h", "*", "OPTIONS h *"},
	{"GET", "h", "/3f2504e0-4f89-11d3-9a0c-0305e82c330", "GET h /3f2504e0-4f89-11d3-9a0c-0305e82c330"}, // UUID one digit short: kept
	{"GET", "h", "/a/١٢", "GET h /a/١٢"},                                                               // Arabic-Indic digits are not [0-9]
}

func TestEndpointKey(t *testing.T) {
	for _, c := range endpointCases {
		if got := EndpointKey(c.method, c.host, c.path); got != c.want {
			t.Errorf("EndpointKey(%q, %q, %q) = %q, want %q", c.method, c.host, c.path, got, c.want)
		}
	}
}

// The report groups endpoints in SQL (endpointSQL); it must give the
// same key as EndpointKey for every case (paths in the http table hold no
// query string).
func TestEndpointSQLMatchesGo(t *testing.T) {
	db := openDB(t, "")
	ctx := context.Background()
	for _, c := range endpointCases {
		path := c.path
		for i := 0; i < len(path); i++ {
			if path[i] == '?' {
				path = path[:i]
				break
			}
		}
		v, err := db.Scalar(ctx, "SELECT "+endpointSQL+" FROM (SELECT ?::VARCHAR AS method, ?::VARCHAR AS host, ?::VARCHAR AS path)", c.method, nullIfEmpty(c.host), path)
		if err != nil {
			t.Fatal(err)
		}
		host := c.host
		if got, want := v, EndpointKey(c.method, host, path); got != want {
			t.Errorf("endpointSQL(%q, %q, %q) = %v, EndpointKey gives %q", c.method, c.host, path, got, want)
		}
	}
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
