package report

import (
	"bytes"
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// Text from the capture cannot become markup in any format: in HTML it
// is text of elements and attributes, and in the chart JSON inside the
// script element it cannot end the element; in Markdown it makes no HTML,
// link, emphasis or table cell; in JSON it is a string.
func TestHostileTextEscaped(t *testing.T) {
	db := openDB(t, "", hostileCapture(t))
	r, err := Build(context.Background(), db, Options{Tool: "pcapq test", Database: "/tmp/" + hostileDir + "/x.pcap"})
	if err != nil {
		t.Fatal(err)
	}
	var h, m, j bytes.Buffer
	if err := WriteHTML(&h, r); err != nil {
		t.Fatal(err)
	}
	if err := WriteMarkdown(&m, r); err != nil {
		t.Fatal(err)
	}
	if err := WriteJSON(&j, r); err != nil {
		t.Fatal(err)
	}

	// HTML: exactly the page's own elements.
	doc, err := html.Parse(bytes.NewReader(h.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	var chartJSON, text string
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			count[n.Data]++
			for _, a := range n.Attr {
				if strings.HasPrefix(strings.ToLower(a.Key), "on") {
					t.Errorf("<%s> has an event handler attribute %s=%q", n.Data, a.Key, a.Val)
				}
			}
			if n.Data == "script" && attr(n, "id") == "pcapq-charts" {
				chartJSON = nodeText(n)
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	text = nodeText(doc)
	for tag, want := range map[string]int{"script": 3, "style": 1, "img": 0, "svg": 0} {
		if count[tag] != want {
			t.Errorf("%d <%s> elements, want %d", count[tag], tag, want)
		}
	}
	for _, s := range []string{hostileHost, hostileUA, hostileReason, hostileDir, `/api/items/{id}/</script><script>alert("uri")</script>`} {
		if !strings.Contains(text, s) {
			t.Errorf("HTML does not show %q as text", s)
		}
	}
	// The host chart's labels carry the hostile Host through the JSON in
	// the script element, intact.
	var charts []Chart
	if err := json.Unmarshal([]byte(chartJSON), &charts); err != nil {
		t.Fatalf("chart JSON in the page does not parse: %v\n%s", err, chartJSON)
	}
	found := false
	for _, c := range charts {
		for _, l := range c.Labels {
			found = found || l == hostileHost
		}
	}
	if !found {
		t.Errorf("no chart label holds the hostile Host %q (the test needs one)", hostileHost)
	}
	if strings.Contains(strings.ToLower(chartJSON), "</script") || strings.Contains(chartJSON, "<!--") {
		t.Errorf("chart JSON holds a sequence that ends or hides the script element")
	}

	// Markdown: every '<', '[', '|', '*', '`' and '_' of the text is escaped.
	for i, line := range strings.Split(m.String(), "\n") {
		for _, re := range []*regexp.Regexp{regexp.MustCompile(`(^|[^\\])<`), regexp.MustCompile(`(^|[^\\])\[`), regexp.MustCompile("(^|[^\\\\])`"), regexp.MustCompile(`(^|[^\\])_`)} {
			if re.MatchString(line) {
				t.Errorf("Markdown line %d has an unescaped %s: %s", i+1, re, line)
			}
		}
	}
	if !strings.Contains(m.String(), MDText(hostileHost)) || !strings.Contains(m.String(), MDText(hostileURI2[:20])) {
		t.Errorf("Markdown does not show the hostile text escaped")
	}
	// JSON: valid, with the text as strings.
	var back Report
	if err := json.Unmarshal(j.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if back.Database != r.Database || strings.Contains(j.String(), "<") {
		t.Errorf("JSON: database %q; '<' written raw: %v", back.Database, strings.Contains(j.String(), "<"))
	}
}
