package metrics

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pcapq/pcapq/internal/testenv"
)

// Text from the traffic that tries to break out of each format.
var hostile = []string{
	"evil|<img src=x onerror=alert(1)>",
	"/a`b``c|d\n| forged | row |",
	"@octocat https://evil.example/x www.evil.example",
	"**bold** _em_ [link](http://x) <script>alert(1)</script> &amp; ]]> \"'",
	"\x1b[2J\x1b]0;title\x07\r\ttab\u202eevil\u200b\u2028\x7f\\",
	"`",
	" `lead",
	"trail\\",
}

// hostileReport is a diff whose hosts, endpoints, rule and capture names
// are all hostile text, with broken rules, skipped rules and changes.
func hostileReport(t testing.TB) *Report {
	base, cur := testSnap(), testSnap()
	base.Source, cur.Source = hostile[4]+".pcap", hostile[0]
	for i, h := range hostile {
		cur.Hosts[HostItem{"http", h}] = int64(i + 1)
		e := Endpoint{"GET", h, "/" + h}
		cur.Endpoints[e] = &Group{Metrics: Metrics{"http.requests": {50, 50}}}
		base.Endpoints[e] = &Group{Metrics: Metrics{"http.requests": {50, 50}, "http.5xx_rate": {0, 50}}}
		cur.Endpoints[e].Metrics["http.5xx_rate"] = Value{20, 50}
	}
	cur.Endpoints[Endpoint{"GET", hostile[1], hostile[3]}] = &Group{Metrics: Metrics{"http.requests": {3, 3}}}
	cur.Global["tcp.retransmit_rate"] = Value{3, 128000}
	cur.Global["http.p50_duration_ms"] = undefined()
	rules := append(Defaults(), mustDiff(t, "http.5xx_rate[GET *]:+5pp"), mustDiff(t, "http.p99_ttfb_ms[/nothing|<b>]:+5%"))
	rules[len(rules)-2].Name = hostile[0]
	res := Compare(base, cur, rules, nil)
	if res.Broken() < 3 {
		t.Fatalf("want several broken rules: %+v", res.Outcomes)
	}
	return &Report{Diff: res, Time: time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC), Elapsed: 1234 * time.Millisecond, Hostname: "ci<1>"}
}

func render(t testing.TB, r *Report, format string) string {
	t.Helper()
	var b bytes.Buffer
	if err := r.Write(&b, format); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func checkReport(t testing.TB) *Report {
	s := testSnap()
	s.Hosts[HostItem{"http", hostile[0]}] = 3
	allow := &Allowlist{Hosts: []string{"10.0.0.0/8"}, Ports: []string{"tcp/80"}}
	res := Check(s, []*CheckRule{mustCheck(t, "tcp.retransmit_rate<0.001%"), mustCheck(t, "http.5xx_rate<=0"), mustCheck(t, "http.p90_ttfb_ms[GET /nothing]<1ms")}, allow)
	return &Report{Check: res, Time: time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC), Hostname: "ci"}
}

// TestTextEscaped: no control or format character from the traffic
// reaches a terminal; each hostile string shows escaped.
func TestTextEscaped(t *testing.T) {
	out := render(t, hostileReport(t), "text")
	for i, r := range out {
		if r < 0x20 && r != '\n' || r == 0x7f || r == 0x202e || r == 0x200b || r == 0x2028 {
			t.Fatalf("control character %U at %d in text report", r, i)
		}
	}
	for _, want := range []string{`\x1b[2J`, `\u202e`, `/a` + "`" + `b` + "``" + `c|d\n| forged | row |`, "FAIL tcp.retransmit_rate:+0.1pp", "tcp.retransmit_rate: 0.01% -> 3.00% (+2.99pp; rule +0.10pp)"} {
		if !strings.Contains(out, want) {
			t.Errorf("text report lacks %q:\n%s", want, out)
		}
	}
	if strings.Count(out, "\n| forged") != 0 {
		t.Errorf("a forged line in the text report")
	}
}

// TestMarkdownEscaped renders the Markdown with cmark-gfm (GitHub's own
// renderer) and checks that every table keeps its columns, that no HTML,
// link or emphasis comes from the traffic, and that the text shows.
func TestMarkdownEscaped(t *testing.T) {
	cmark, err := exec.LookPath("cmark-gfm")
	if err != nil {
		testenv.Missing(t, "cmark-gfm not installed: `apt-get install cmark-gfm` installs it")
	}
	for _, r := range []*Report{hostileReport(t), checkReport(t)} {
		md := render(t, r, "md")
		cmd := exec.Command(cmark, "-e", "table", "-e", "autolink", "-e", "strikethrough", "--to", "html")
		cmd.Stdin = strings.NewReader(md)
		html, err := cmd.Output()
		if err != nil {
			t.Fatal(err)
		}
		h := string(html)
		for _, bad := range []string{"<img", "<script", "<a ", "<strong", "<em", "<del", "<b>"} {
			if strings.Contains(h, bad) {
				t.Errorf("traffic text became %s in the rendered Markdown:\n%s", bad, h)
			}
		}
		// every row of a table has as many cells as its header
		tables := regexp.MustCompile(`(?s)<table>.*?</table>`).FindAllString(h, -1)
		if len(tables) < 2 {
			t.Fatalf("%d tables rendered:\n%s\n%s", len(tables), md, h)
		}
		cell := regexp.MustCompile(`<t[hd][ >]`)
		for _, tb := range tables {
			rows := regexp.MustCompile(`(?s)<tr>.*?</tr>`).FindAllString(tb, -1)
			want := len(cell.FindAllString(rows[0], -1))
			for _, row := range rows[1:] {
				if n := len(cell.FindAllString(row, -1)); n != want {
					t.Errorf("a row with %d cells in a table of %d:\n%s", n, want, row)
				}
			}
		}
		if r.Diff != nil {
			// the hostile host shows literally, inside a code span
			if !strings.Contains(h, "<code>evil|&lt;img src=x onerror=alert(1)&gt;</code>") {
				t.Errorf("hostile host not shown as code:\n%s", h)
			}
			if !strings.Contains(h, `<code>GET `+"`"+` /`+"`"+`</code>`) {
				t.Errorf("backtick endpoint not shown as code:\n%s", h)
			}
		}
	}
}

// TestJUnitValidates checks the JUnit report against the schema CI tools
// read (metrics/testdata/junit.xsd) with xmllint, and its counts.
func TestJUnitValidates(t *testing.T) {
	xmllint, err := exec.LookPath("xmllint")
	if err != nil {
		testenv.Missing(t, "xmllint not installed: `apt-get install libxml2-utils` installs it")
	}
	dir := t.TempDir()
	for i, r := range []*Report{hostileReport(t), checkReport(t)} {
		out := render(t, r, "junit")
		f := filepath.Join(dir, "r.xml")
		if err := os.WriteFile(f, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
		// PCAPQ_JUNIT_XSD adds schemas to validate against (colon-separated
		// files), e.g. Jenkins' junit-10.xsd and Ant's JUnit.xsd kept outside
		// the repository.
		schemas := []string{"testdata/junit.xsd"}
		if extra := os.Getenv("PCAPQ_JUNIT_XSD"); extra != "" {
			schemas = append(schemas, strings.Split(extra, ":")...)
		}
		for _, xsd := range schemas {
			if msg, err := exec.Command(xmllint, "--noout", "--schema", xsd, f).CombinedOutput(); err != nil {
				t.Fatalf("report %d does not validate against %s: %v\n%s\n%s", i, xsd, err, msg, out)
			}
		}
		var doc struct {
			Suites []struct {
				Tests    int `xml:"tests,attr"`
				Failures int `xml:"failures,attr"`
				Skipped  int `xml:"skipped,attr"`
				Cases    []struct {
					Name    string `xml:"name,attr"`
					Failure *struct {
						Message string `xml:"message,attr"`
						Text    string `xml:",chardata"`
					} `xml:"failure"`
					Skipped *struct{} `xml:"skipped"`
				} `xml:"testcase"`
				Out string `xml:"system-out"`
			} `xml:"testsuite"`
		}
		if err := xml.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatal(err)
		}
		s := doc.Suites[0]
		os := r.outcomes()
		fails, skips := 0, 0
		names := map[string]bool{}
		for _, c := range s.Cases {
			if c.Failure != nil {
				fails++
				if c.Failure.Message == "" || c.Failure.Text == "" {
					t.Errorf("failure of %q without numbers", c.Name)
				}
			}
			if c.Skipped != nil {
				skips++
			}
			if names[c.Name] {
				t.Errorf("two testcases named %q", c.Name)
			}
			names[c.Name] = true
		}
		_, wantFail, wantSkip := counts(os)
		if s.Tests != len(os) || len(s.Cases) != len(os) || s.Failures != fails || fails != wantFail || s.Skipped != skips || skips != wantSkip {
			t.Errorf("report %d: tests=%d cases=%d failures=%d/%d skipped=%d/%d for %d rules (%d broken, %d no data)", i, s.Tests, len(s.Cases), s.Failures, fails, s.Skipped, skips, len(os), wantFail, wantSkip)
		}
		if r.Diff != nil && !strings.Contains(s.Out, `\x1b[2J`) {
			t.Errorf("system-out lacks the escaped text report")
		}
		if r.Diff != nil {
			found := false
			for _, c := range s.Cases {
				if c.Failure != nil && strings.HasPrefix(c.Name, "tcp.retransmit_rate:+0.1pp") && strings.Contains(c.Failure.Message, "0.01% -> 3.00%") {
					found = true
				}
			}
			if !found {
				t.Errorf("no failing testcase for tcp.retransmit_rate with its numbers:\n%s", out)
			}
		}
	}
}

// TestJSONReport: valid JSON carrying the exact text and every metric.
func TestJSONReport(t *testing.T) {
	r := hostileReport(t)
	out := render(t, r, "json")
	var j map[string]any
	if err := json.Unmarshal([]byte(out), &j); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if j["status"] != "fail" || j["verb"] != "diff" {
		t.Errorf("status %v verb %v", j["status"], j["verb"])
	}
	hosts := map[string]bool{}
	for _, h := range j["new_hosts"].([]any) {
		hosts[h.(map[string]any)["key"].(string)] = true
	}
	for _, h := range hostile {
		if !hosts["http "+h] {
			t.Errorf("JSON lost host %q", h)
		}
	}
	newSide := j["new"].(map[string]any)
	m := newSide["metrics"].(map[string]any)
	if v := m["tcp.retransmit_rate"].(map[string]any)["value"]; v != 3.0 {
		t.Errorf("tcp.retransmit_rate %v", v)
	}
	// undefined values are null, not NaN (which is not JSON)
	if v, ok := m["http.p50_duration_ms"]; !ok || v.(map[string]any)["value"] != nil {
		t.Errorf("undefined metric %v", v)
	}
	if len(newSide["endpoints"].([]any)) != len(r.Diff.New.Endpoints) {
		t.Errorf("JSON endpoints %d of %d", len(newSide["endpoints"].([]any)), len(r.Diff.New.Endpoints))
	}
	cj := render(t, checkReport(t), "json")
	if err := json.Unmarshal([]byte(cj), &j); err != nil || j["capture"] == nil || j["verb"] != "check" {
		t.Errorf("check JSON: %v %v", err, j)
	}
}

func TestCheck(t *testing.T) {
	r := checkReport(t)
	want := []Status{Fail, Pass, NoData, Fail, Fail}
	if len(r.Check.Outcomes) != len(want) {
		t.Fatalf("%d outcomes: %+v", len(r.Check.Outcomes), r.Check.Outcomes)
	}
	for i, w := range want {
		if o := r.Check.Outcomes[i]; o.Status != w {
			t.Errorf("%s: %s, want %s (%+v)", o.Rule, o.Status, w, o)
		}
	}
	if b := r.Check.Outcomes[0].Breaches[0].Text; !strings.Contains(b, "tcp.retransmit_rate = 0.01% (N=128000), must be < 0.00%") {
		t.Errorf("breach text %q", b)
	}
	if b := r.Check.Outcomes[3].Breaches[0].Text; !strings.Contains(b, "1 not allowed") || !strings.Contains(b, "evil|") {
		t.Errorf("allowlist breach %q", b)
	}
	if b := r.Check.Outcomes[4].Breaches[0].Text; b != "1 not allowed (port of 2 seen): udp/53" {
		t.Errorf("port allowlist breach %q", b)
	}
	// scoped check: each endpoint must hold
	s := testSnap()
	res := Check(s, []*CheckRule{mustCheck(t, "http.p90_ttfb_ms[GET *]<2.25ms")}, nil)
	o := res.Outcomes[0]
	if o.Status != Fail || len(o.Breaches) != 1 || o.Breaches[0].Subject != "GET 10.150.0.1 /missing" || o.Evaluated != 3 {
		t.Errorf("scoped check %+v", o)
	}
}
