package schema

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
)

// TestColumnsUniqueAndTyped checks every column name is unique per table,
// every type maps to DuckDB, and the required columns exist.
func TestColumnsUniqueAndTyped(t *testing.T) {
	for _, tb := range Core {
		for _, p := range tb.Check() {
			t.Error(p)
		}
	}
	// Check finds what it is there for.
	bad := &Table{Name: "bad", Doc: "x", Columns: []Column{{"a", tI32, "A."}, {"a", tI32, ""}, {"b", arrow.Null, "B."}}}
	if got := len(bad.Check()); got != 4 { // twice, no doc, no DuckDB type, no capture_id
		t.Errorf("Check of a table with 4 problems found %d: %q", got, bad.Check())
	}
	required := map[*Table]string{
		Captures: "capture_id path file_size format link_types packets bytes first_ts last_ts ingested_at pcapq_version warnings",
		Packets: "capture_id frame ts iface link_type cap_len orig_len file_offset eth_src eth_dst vlan ether_type ip_version src_ip dst_ip " +
			"ip_proto ttl ip_id is_fragment src_port dst_port tcp_flags tcp_seq tcp_ack tcp_win payload_len icmp_type icmp_code flow_id direction",
		Warnings: "capture_id frame kind detail",
		Flows: "capture_id flow_id community_id proto orig_h orig_p resp_h resp_p vlan ts_start ts_end duration_ms orig_pkts resp_pkts orig_bytes " +
			"resp_bytes orig_ip_bytes resp_ip_bytes missed_bytes conn_state history syn_retries handshake_rtt_ms retransmits first_frame last_frame service",
		TCPEvents: "capture_id frame ts flow_id direction kind seq seg_len orig_frame since_orig_ms",
		HTTP: "capture_id flow_id community_id trans_depth ts_req_start ts_req_end ts_resp_start ts_resp_end ttfb_ms duration_ms req_frame resp_frame " +
			"method host uri path query version user_agent referrer req_content_type req_body_len status_code status_msg resp_version resp_content_type " +
			"transfer_encoding content_encoding resp_body_len resp_wire_len req_headers resp_headers upgrade missing gap error",
	}
	for tb, names := range required {
		for _, n := range strings.Fields(names) {
			tb.Index(n) // panics when missing
		}
	}
	if !strings.Contains(PacketsData.CreateSQL(), "ts TIMESTAMP_NS") {
		t.Errorf("packets.ts must be TIMESTAMP_NS: %s", PacketsData.CreateSQL())
	}
	for i, want := range []string{"", "F", "S", "FS", "A"} {
		if i == 4 {
			i = 16
		}
		if got := FlagLetters(uint8(i)); got != want {
			t.Errorf("FlagLetters(%#x) = %q, want %q", i, got, want)
		}
	}
	if got := FlagLetters(0xff); got != "FSRPAUEC" {
		t.Errorf("FlagLetters(0xff) = %q", got)
	}
	// The view's real column types are checked against these in DuckDB
	// (query.TestViewColumns).
	for _, n := range []string{"req_headers", "resp_headers"} {
		if got := SQLType(HTTP.Columns[HTTP.Index(n)].Type); got != "MAP(VARCHAR, VARCHAR[])" {
			t.Errorf("http.%s must be MAP(VARCHAR, VARCHAR[]), is %s", n, got)
		}
	}
}

func TestValidText(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", ""},
		{"plain /path?q=1", "plain /path?q=1"},
		{"caf\xe9", `caf\xe9`},
		{"caf\xc3\xa9", "caf\xc3\xa9"},      // valid UTF-8 kept
		{"\xff\xfe", `\xff\xfe`},            // each invalid byte
		{"a\x00b\x1b[2J", "a\x00b\x1b[2J"},  // control characters are valid UTF-8
		{"\xe2\x82", `\xe2\x82`},            // truncated sequence
		{"\xed\xa0\x80", `\xed\xa0\x80`},    // UTF-16 surrogate
		{"\xef\xbf\xbd", "\xef\xbf\xbd"},    // U+FFFD itself
		{`lit\xe9` + "\xe9", `lit\xe9\xe9`}, // backslashes kept
		{"\xc0\xaf", `\xc0\xaf`},            // overlong '/'
	} {
		got := ValidText(c.in)
		if got != c.want {
			t.Errorf("ValidText(%q) = %q, want %q", c.in, got, c.want)
		}
		if !utf8.ValidString(got) {
			t.Errorf("ValidText(%q) = %q is not valid UTF-8", c.in, got)
		}
	}
}

// Every table but pcapq_meta holds rows of one capture, and the
// re-ingest that deletes a capture's rows finds them by PerCapture.
func TestPerCapture(t *testing.T) {
	for _, tb := range Core {
		want := tb.View == "" && tb != Meta
		if got := tb.PerCapture(); got != want {
			t.Errorf("%s.PerCapture() = %v, want %v", tb.Name, got, want)
		}
	}
	if Version < 2 {
		t.Errorf("Version %d: files without pcapq_meta are version 1", Version)
	}
}
