package metrics

import (
	"regexp"
	"strings"
)

// Endpoint is an HTTP endpoint as pcapq compares them: the request
// method, the server's host name and the path template. Its fields hold
// text from the traffic: escape them where they are printed.
type Endpoint struct {
	Method string
	Host   string
	Path   string
}

// String is "METHOD HOST PATH", e.g. "GET api.example.test /items/{id}".
func (e Endpoint) String() string { return e.Method + " " + e.Host + " " + e.Path }

// IDPlaceholder replaces a path segment that is an identifier.
const IDPlaceholder = "{id}"

// idSegment matches a path segment that is an identifier: a decimal
// number, a UUID, or 12 or more hex digits (object ids, hashes), with an
// optional short file extension that is kept ("17.json" -> "{id}.json").
// The same expression is used in SQL by EndpointSQL (DuckDB and Go both
// use RE2), and TestEndpointSQLMatchesGo holds the two together.
const idSegment = `^(?:[0-9]+|[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}|[0-9A-Fa-f]{12,})(\.[A-Za-z0-9]{1,8})?$`

var idSegmentRE = regexp.MustCompile(idSegment)

// PathTemplate folds the identifiers of a URL path into {id}:
// "/api/v2/items/17" -> "/api/v2/items/{id}". Each '/'-separated segment
// that is a decimal number, a UUID or a run of 12 or more hex digits is
// replaced (a short extension is kept). The query string is not part of
// a path; give the path alone.
func PathTemplate(path string) string {
	if !strings.Contains(path, "/") {
		return foldSegment(path)
	}
	segs := strings.Split(path, "/")
	changed := false
	for i, s := range segs {
		if f := foldSegment(s); f != s {
			segs[i] = f
			changed = true
		}
	}
	if !changed {
		return path
	}
	return strings.Join(segs, "/")
}

func foldSegment(s string) string {
	if s == "" || !idSegmentRE.MatchString(s) {
		return s
	}
	return idSegmentRE.ReplaceAllString(s, IDPlaceholder+"${1}")
}

// NormalizeHost is a Host header as endpoints and hosts are keyed: ASCII
// letters in lower case (host names are ASCII; other bytes are kept as
// sent), without the default port ":80" and then without a trailing dot.
func NormalizeHost(host string) string {
	h := asciiLower(host)
	h = strings.TrimSuffix(h, ":80")
	h = strings.TrimSuffix(h, ".")
	return h
}

// EndpointKey is the endpoint of one HTTP request: method, host and
// path template. host is the Host header (serverIP is used when it is
// empty); path is the request target up to '?'. A request in absolute
// form ("http://host/path") gives its host and path from the URI.
//
// It is the one definition of an endpoint in pcapq: pcapq diff and
// check key endpoints with it (computed in SQL by EndpointSQL, which
// gives the same keys).
func EndpointKey(method, host, path, serverIP string) Endpoint {
	if rest, ok := cutScheme(path); ok {
		h, p, found := strings.Cut(rest, "/")
		if host == "" {
			host = h
		}
		path = "/" + p
		if !found {
			path = "/"
		}
	}
	if host == "" {
		host = serverIP
	}
	return Endpoint{Method: method, Host: NormalizeHost(host), Path: PathTemplate(path)}
}

func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// cutScheme removes a leading "http://" or "https://" (any case).
func cutScheme(s string) (string, bool) {
	for _, p := range []string{"http://", "https://"} {
		if len(s) >= len(p) && strings.EqualFold(s[:len(p)], p) {
			return s[len(p):], true
		}
	}
	return s, false
}

// EndpointSQL returns DuckDB expressions computing EndpointKey's host
// and path from columns (or expressions) holding the Host header, the
// path and the server address. It is how the SQL queries group by
// endpoint without sending every row to Go.
func EndpointSQL(host, path, serverIP string) (hostExpr, pathExpr string) {
	abs := "regexp_matches(" + path + ", '^(?i)https?://')"
	rest := "regexp_replace(" + path + ", '^(?i)https?://', '')"
	// host part and path part of an absolute-form target
	absHost := "split_part(" + rest + ", '/', 1)"
	absPath := "CASE WHEN strpos(" + rest + ", '/') > 0 THEN substr(" + rest + ", strpos(" + rest + ", '/')) ELSE '/' END"
	h := "coalesce(nullif(" + host + ", ''), CASE WHEN " + abs + " THEN nullif(" + absHost + ", '') END, " + serverIP + ", '')"
	hostExpr = "regexp_replace(regexp_replace(translate(" + h + ", 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz'), ':80$', ''), '\\.$', '')"
	p := "CASE WHEN " + abs + " THEN " + absPath + " ELSE " + path + " END"
	pathExpr = "array_to_string(list_transform(string_split(" + p + ", '/'), s -> regexp_replace(s, '" + idSegment + "', '" + IDPlaceholder + "\\1')), '/')"
	return hostExpr, pathExpr
}
