package metrics

import "testing"

func TestPathTemplate(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"/api/v2/items/17", "/api/v2/items/{id}"},
		{"/api/v2/items/42", "/api/v2/items/{id}"},
		{"/api/v2/items/17/reviews/3", "/api/v2/items/{id}/reviews/{id}"},
		{"/users/0", "/users/{id}"},
		{"/orders/123e4567-e89b-12d3-a456-426614174000", "/orders/{id}"},
		{"/orders/123E4567-E89B-12D3-A456-426614174000/lines", "/orders/{id}/lines"},
		{"/blob/0123456789abcdef0123456789abcdef01234567", "/blob/{id}"}, // sha1
		{"/obj/507f1f77bcf86cd799439011", "/obj/{id}"},                   // 24-hex object id
		{"/obj/abcdef012345", "/obj/{id}"},                               // 12 hex digits: the shortest folded
		{"/obj/abcdef01234", "/obj/abcdef01234"},                         // 11: kept
		{"/img/17.png", "/img/{id}.png"},
		{"/img/17.png.bak", "/img/17.png.bak"}, // one extension only
		{"/img/17.toolongext", "/img/17.toolongext"},
		{"/v2/items", "/v2/items"}, // "v2" is not an id
		{"/small.txt", "/small.txt"},
		{"/2024/report", "/{id}/report"},
		{"/a//17/", "/a//{id}/"},
		{"/", "/"},
		{"", ""},
		{"17", "{id}"},
		{"*", "*"},
		{"/items/-17", "/items/-17"},
		{"/items/1.5", "/items/{id}.5"}, // "1" with extension ".5"
		{"/deadbeef", "/deadbeef"},      // 8 hex: a word, kept
		{"/item/17%2F18", "/item/17%2F18"},
	} {
		if got := PathTemplate(c.in); got != c.want {
			t.Errorf("PathTemplate(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestEndpointKey(t *testing.T) {
	for _, c := range []struct {
		method, host, path, server string
		want                       Endpoint
	}{
		{"GET", "Example.TEST", "/api/v2/items/17", "10.0.0.1", Endpoint{"GET", "example.test", "/api/v2/items/{id}"}},
		{"GET", "example.test:80", "/x", "", Endpoint{"GET", "example.test", "/x"}},
		{"GET", "example.test.", "/x", "", Endpoint{"GET", "example.test", "/x"}},
		{"GET", "example.test:8080", "/x", "", Endpoint{"GET", "example.test:8080", "/x"}},
		{"GET", "", "/x", "10.0.0.1", Endpoint{"GET", "10.0.0.1", "/x"}},
		{"GET", "[fd00::1]:80", "/x", "", Endpoint{"GET", "[fd00::1]", "/x"}},
		{"GET", "", "http://Proxy.Example/a/17", "10.0.0.1", Endpoint{"GET", "proxy.example", "/a/{id}"}},
		{"GET", "h", "HTTPS://other/b", "", Endpoint{"GET", "h", "/b"}},
		{"GET", "", "http://onlyhost", "", Endpoint{"GET", "onlyhost", "/"}},
		{"GET", "", "http:///p", "10.0.0.9", Endpoint{"GET", "10.0.0.9", "/p"}},
		{"post", "x", "/p", "", Endpoint{"post", "x", "/p"}}, // methods are case-sensitive
		{"CONNECT", "", "host:443", "10.0.0.1", Endpoint{"CONNECT", "10.0.0.1", "host:443"}},
		{"GET", "ÄBC", "/", "", Endpoint{"GET", "Äbc", "/"}}, // ASCII lower case only
	} {
		if got := EndpointKey(c.method, c.host, c.path, c.server); got != c.want {
			t.Errorf("EndpointKey(%q, %q, %q, %q) = %+v, want %+v", c.method, c.host, c.path, c.server, got, c.want)
		}
	}
	if s := (Endpoint{"GET", "h", "/p"}).String(); s != "GET h /p" {
		t.Errorf("String = %q", s)
	}
}
