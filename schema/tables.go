package schema

import (
	"fmt"
	"strings"
)

// Version is the version of the database layout these tables describe,
// kept in the file's pcapq_meta table. Raise it with every change that a
// file written before would not match (a table or column added, removed,
// renamed or retyped, a view's SQL or a column's meaning changed), and
// add the migration from the previous version to package query
// (migrations in query/db.go) with a test that opens a file of the
// previous version.
//
//	1: pcapq up to commit 3778535, which wrote no pcapq_meta table.
//	2: pcapq_meta; captures.path_bytes, the capture's identity.
//	3: the protocol analyzers' tables dns, tls and websocket.
const Version = 3

// Meta holds the schema version of a database file.
var Meta = &Table{
	Name: "pcapq_meta",
	Doc:  "One row: the version of pcapq's schema the database file holds. pcapq migrates a file of an older schema when it opens it (in one transaction) and refuses a file of a newer one.",
	Columns: []Column{
		{"schema_version", tI32, fmt.Sprintf("Version of the file's tables and views (%d for the tables described here). Files written before this table existed are version 1.", Version)},
		{"pcapq_version", tStr, "pcapq release that created the file or last migrated it."},
	},
}

// Captures has one row per ingested capture file.
var Captures = &Table{
	Name: "captures",
	Doc:  "One row per ingested capture, or live capture (format 'live', path 'live:IFACE'). Ingesting the same file name again (equal path_bytes) replaces the capture's rows in every table; two different names never replace each other.",
	Columns: []Column{
		{"capture_id", tI32, "Capture number, the key that joins every other table."},
		{"path", tStr, "Absolute path of the capture as given ('-' for standard input), as text: bytes of the name that are not UTF-8 are written as \\xNN, so two names can read alike (path_bytes tells them apart)."},
		{"file_size", tI64, "Size of the file in bytes as stored (compressed size for .gz/.zst); NULL for stdin."},
		{"format", tStr, "'pcap', 'pcap-ns' or 'pcapng', with '+gzip' or '+zstd' when compressed."},
		{"link_types", tStrs, "Link types seen, by LINKTYPE name (e.g. ['EN10MB'])."},
		{"packets", tI64, "Packets read (rows in packets)."},
		{"bytes", tI64, "Sum of captured lengths (cap_len) of all packets."},
		{"first_ts", tTs, "Timestamp of the earliest packet (of those with a time, see packets.ts; NULL when none has one)."},
		{"last_ts", tTs, "Timestamp of the latest packet (of those with a time; NULL when none has one)."},
		{"ingested_at", tTs, "Wall-clock time the ingest finished."},
		{"pcapq_version", tStr, "pcapq version that wrote the rows."},
		{"warnings", tI64, "Rows in warnings for this capture (at most 1000 of a kind, see warnings)."},
		{"complete", tBool, "False when reading stopped early (damaged or truncated file, or a live capture whose interface went away): the rows hold every packet before. A live capture (or an ingest from a pipe) is false until it ends; its row is rewritten at every commit."},
		{"path_bytes", tBlob, "The absolute path's bytes exactly (a file name need not be UTF-8): the capture's identity, which a re-ingest matches. NULL for standard input, and for a capture migrated from schema 1 whose path holds a backslash (schema 1 kept only the text, which cannot tell the byte 0xE9 from the four characters \\xe9; such a capture is matched by path, as schema 1 did)."},
		{"bpf_filter", tStr, "BPF expression the packets were filtered with (capture -f, ingest -f); NULL when none."},
		{"ps_received", tI64, "Live capture: packets the kernel handed to the filter (libpcap's ps_recv); NULL for files."},
		{"ps_dropped", tI64, "Live capture: packets dropped because the kernel buffer was full (ps_drop; each rise is a capture_dropped warning); NULL for files."},
		{"ps_ifdropped", tI64, "Live capture: packets dropped by the interface or its driver (ps_ifdrop); NULL for files."},
	},
}

// Packets has one row per captured frame. It is a view over PacketsData,
// which stores IPv4 and MAC addresses, TCP flags and the direction as
// integers: DuckDB writes a string column several times slower than an
// integer one, and these six were a third of the cost of a packets-only
// ingest (see benchmarks/RESULTS.md). The view gives them back as text.
var Packets = &Table{
	Name: "packets",
	Doc:  "One row per captured frame, as capinfos counts them. Decoded fields are NULL where they do not apply. A view over packets_data that formats addresses, TCP flags and the direction as text.",
	Columns: []Column{
		{"capture_id", tI32, "Capture the frame came from."},
		{"frame", tI64, "Frame number, 1-based, as tshark's frame.number."},
		{"ts", tTs, "Capture timestamp (UTC, nanoseconds). NULL when the record has none: a pcapng simple packet block, or a time field that is no time (a pcap fraction of a second over one second, a pcapng time outside 1677-2262), which also gets a bad_timestamp warning. Flows and TCP events take such a frame at the time of the last earlier frame with one."},
		{"iface", tI32, "pcapng interface index (0 for pcap)."},
		{"link_type", tI32, "LINKTYPE_ value of the frame's interface."},
		{"cap_len", tI32, "Bytes captured (frame.cap_len)."},
		{"orig_len", tI32, "Bytes on the wire (frame.len)."},
		{"file_offset", tI64, "Byte offset of the record (pcap record header, or pcapng block) in the uncompressed capture; for a live capture, of its block in the capture --write-pcap file (NULL without one)."},
		{"eth_src", tStr, "Ethernet source MAC, aa:bb:cc:dd:ee:ff."},
		{"eth_dst", tStr, "Ethernet destination MAC."},
		{"vlan", tU16, "Outer 802.1Q/802.1ad VLAN id, NULL when untagged."},
		{"ether_type", tU16, "EtherType after VLAN/MPLS headers (e.g. 2048 for IPv4); NULL for link types without one."},
		{"ip_version", tU8, "4 or 6; NULL when the frame carries no IP."},
		{"src_ip", tStr, "Source address, canonical text (RFC 5952 for IPv6)."},
		{"dst_ip", tStr, "Destination address, canonical text."},
		{"ip_proto", tU8, "Transport protocol number (IPv6: after extension headers)."},
		{"ttl", tU8, "IPv4 TTL or IPv6 hop limit."},
		{"ip_id", tU32, "IPv4 identification; IPv6 fragment identification when a fragment header is present."},
		{"is_fragment", tBool, "True for an IPv4 fragment (MF or offset) or an IPv6 packet with a fragment header."},
		{"src_port", tU16, "TCP/UDP/SCTP source port."},
		{"dst_port", tU16, "TCP/UDP/SCTP destination port."},
		{"tcp_flags", tStr, "Set TCP flags in the order FSRPAUEC, e.g. 'SA' for SYN+ACK; '' when none are set."},
		{"tcp_flags_bits", tU16, "TCP flags as a number, as tshark's tcp.flags (FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10, URG 0x20, ECE 0x40, CWR 0x80, NS/AE 0x100)."},
		{"tcp_seq", tU32, "Raw TCP sequence number as on the wire (tshark's tcp.seq_raw)."},
		{"tcp_ack", tU32, "Raw TCP acknowledgement number (tcp.ack_raw)."},
		{"tcp_win", tU16, "Raw TCP window field, not scaled."},
		{"payload_len", tI32, "Transport payload bytes per the IP/TCP/UDP headers (tshark's tcp.len), Ethernet padding excluded. 0 when the TCP header length field is bogus (under 20 bytes or past the segment: a bad_TCP_header_len warning); tshark then still counts tcp.len from the bogus length when the segment holds it."},
		{"icmp_type", tU8, "ICMP or ICMPv6 type."},
		{"icmp_code", tU8, "ICMP or ICMPv6 code."},
		{"flow_id", tI64, "Flow the frame belongs to (flows.flow_id); NULL when flow tracking is off or the frame has no transport. IP fragments are reassembled: the frame completing a datagram carries its flow_id, the other fragments NULL."},
		{"direction", tStr, "'orig' (from the flow's originator) or 'resp'; NULL without a flow."},
	},
}

// PacketsData stores the rows of the packets view.
var PacketsData = dataTable(Packets, "packets_data",
	"Storage behind the packets view (query packets instead): the same rows, with IPv4 and MAC addresses, TCP flags and the direction stored as integers (IPv6 addresses as text).",
	packetsStored)

// packetsStored maps each packets column that is stored differently to
// its stored columns and the SQL that turns them back into the view's
// value.
var packetsStored = map[string]stored{
	"eth_src": {[]Column{{"eth_src_int", tU64, "Ethernet source MAC as a 48-bit number (first octet most significant)."}}, macSQL("eth_src_int")},
	"eth_dst": {[]Column{{"eth_dst_int", tU64, "Ethernet destination MAC as a 48-bit number."}}, macSQL("eth_dst_int")},
	"src_ip": {[]Column{
		{"src_ip4", tU32, "IPv4 source address as a 32-bit number; NULL for IPv6."},
		{"src_ip6", tStr, "IPv6 source address, canonical text; NULL for IPv4."},
	}, ipSQL("src_ip4", "src_ip6")},
	"dst_ip": {[]Column{
		{"dst_ip4", tU32, "IPv4 destination address as a 32-bit number; NULL for IPv6."},
		{"dst_ip6", tStr, "IPv6 destination address, canonical text; NULL for IPv4."},
	}, ipSQL("dst_ip4", "dst_ip6")},
	"tcp_flags":      {[]Column{{"tcp_flags_bits", tU16, "TCP flags as a number, as tshark's tcp.flags."}}, flagsSQL("tcp_flags_bits")},
	"tcp_flags_bits": {}, // stored under tcp_flags
	"direction":      {[]Column{{"from_resp", tBool, "True for 'resp', false for 'orig', NULL without a flow."}}, "CASE WHEN from_resp THEN 'resp' WHEN NOT from_resp THEN 'orig' END"},
}

// stored says how a view column is kept in the view's data table: in
// cols (none: stored under another column's entry), turned back into the
// view's value by the SQL expr.
type stored struct {
	cols []Column
	expr string
}

// dataTable returns the table that stores the rows of view: its columns,
// with those in st replaced by their stored columns. It sets view.View
// to the SELECT that gives the rows back in the view's shape.
func dataTable(view *Table, name, doc string, st map[string]stored) *Table {
	var cs []Column
	var b strings.Builder
	b.WriteString("SELECT ")
	for i, c := range view.Columns {
		if i > 0 {
			b.WriteString(", ")
		}
		s, ok := st[c.Name]
		if !ok {
			cs = append(cs, c)
			b.WriteString(c.Name)
			continue
		}
		cs = append(cs, s.cols...)
		if s.expr == "" {
			b.WriteString(c.Name)
		} else {
			fmt.Fprintf(&b, "%s AS %s", s.expr, c.Name)
		}
	}
	b.WriteString(" FROM " + name)
	view.View = b.String()
	return &Table{Name: name, Doc: doc, Columns: cs}
}

// macSQL formats a 48-bit number as aa:bb:cc:dd:ee:ff.
func macSQL(col string) string {
	return fmt.Sprintf("printf('%%02x:%%02x:%%02x:%%02x:%%02x:%%02x', (%[1]s >> 40) & 255, (%[1]s >> 32) & 255, (%[1]s >> 24) & 255, (%[1]s >> 16) & 255, (%[1]s >> 8) & 255, %[1]s & 255)", col)
}

// ipSQL formats an IPv4 number as dotted quad, or takes the IPv6 text.
func ipSQL(v4, v6 string) string {
	return fmt.Sprintf("CASE WHEN %[1]s IS NOT NULL THEN concat((%[1]s >> 24)::VARCHAR, '.', ((%[1]s >> 16) & 255)::VARCHAR, '.', ((%[1]s >> 8) & 255)::VARCHAR, '.', (%[1]s & 255)::VARCHAR) ELSE %[2]s END", v4, v6)
}

// flagsSQL looks the low 8 flag bits up in a list of their FSRPAUEC
// letters.
func flagsSQL(col string) string {
	var b strings.Builder
	b.WriteString("[")
	for i := 0; i < 256; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("'" + FlagLetters(uint8(i)) + "'")
	}
	fmt.Fprintf(&b, "][(%s & 255)::BIGINT + 1]", col)
	return b.String()
}

// FlagLetters returns the letters of the set TCP flags in the order
// FSRPAUEC.
func FlagLetters(f uint8) string {
	var s []byte
	for i, c := range []byte("FSRPAUEC") {
		if f&(1<<i) != 0 {
			s = append(s, c)
		}
	}
	return string(s)
}

// Warnings has one row per problem met while reading or decoding.
var Warnings = &Table{
	Name: "warnings",
	Doc:  "Problems met while reading, decoding or reassembling, named as in Zeek's weird.log where Zeek has a name. At most 1000 rows of one kind are written per capture; past them one row of kind warnings_not_written per kind says in its detail how many more there were ('N more KIND warnings not written ...').",
	Columns: []Column{
		{"capture_id", tI32, "Capture the problem was met in."},
		{"frame", tI64, "Frame number (packets.frame) of the packet the problem is about; NULL for problems not tied to one packet (a block, the file, a record an ingest -f filter left out)."},
		{"file_offset", tI64, "Byte offset in the uncompressed capture, where known."},
		{"kind", tStr, "Problem name, e.g. truncated_record, unsupported_link_type, bad_ip_header_length."},
		{"detail", tStr, "What was found, in words (input bytes are escaped)."},
	},
}

// Flows has one row per connection (Zeek conn.log).
var Flows = &Table{
	Name: "flows",
	Doc:  "One row per TCP connection, or per UDP/ICMP flow as Zeek's conn.log defines them.",
	Columns: []Column{
		{"capture_id", tI32, "Capture."},
		{"flow_id", tI64, "Frame number of the flow's first packet: unique within a capture, the same for any worker count."},
		{"community_id", tStr, "Community ID v1 (seed 0), as Zeek, Suricata, Arkime and tshark compute it."},
		{"proto", tStr, "'tcp', 'udp', 'icmp', 'icmp6', or the IP protocol number."},
		{"orig_h", tStr, "Originator address (the sender of the SYN for TCP, else the first sender)."},
		{"orig_p", tU16, "Originator port (ICMP: type, as Zeek)."},
		{"resp_h", tStr, "Responder address."},
		{"resp_p", tU16, "Responder port (ICMP: code, as Zeek)."},
		{"vlan", tU16, "Outer VLAN id."},
		{"ts_start", tTs, "First packet."},
		{"ts_end", tTs, "Last packet."},
		{"duration_ms", tF64, "ts_end - ts_start in milliseconds."},
		{"orig_pkts", tI64, "Packets from the originator."},
		{"resp_pkts", tI64, "Packets from the responder."},
		{"orig_bytes", tI64, "Originator payload bytes by sequence space (TCP, as Zeek), payload bytes for UDP/ICMP."},
		{"resp_bytes", tI64, "Responder payload bytes."},
		{"orig_ip_bytes", tI64, "IP-level bytes from the originator (IP total lengths)."},
		{"resp_ip_bytes", tI64, "IP-level bytes from the responder."},
		{"missed_bytes", tI64, "Bytes in sequence-space gaps: never seen (lost before the capture point, as Zeek counts them), plus bytes skipped because a reassembly bound was hit (then capped is true and a warning says so)."},
		{"conn_state", tStr, "Zeek conn_state: S0 S1 SF REJ S2 S3 RSTO RSTR RSTOS0 RSTRH SH SHR OTH (NULL for UDP/ICMP)."},
		{"history", tStr, "Zeek history letters (S h A D a d F f R r T t G g ...; upper case = originator)."},
		{"syn_retries", tI64, "SYNs retransmitted by the originator before the handshake."},
		{"handshake_rtt_ms", tF64, "SYN to the ACK of the SYN-ACK, in ms; NULL when the handshake was not seen."},
		{"retransmits", tI64, "Segments flagged retransmission, fast_retransmission or spurious_retransmission."},
		{"first_frame", tI64, "First frame of the flow."},
		{"last_frame", tI64, "Last frame of the flow."},
		{"service", tStr, "Protocols recognised on the flow, comma-separated in the order found, as Zeek's conn.log writes them ('http', 'http,websocket', 'ssl', 'dns'); NULL when none."},
		{"evicted", tBool, "Ended by idle timeout or a memory bound rather than by the connection or the capture."},
		{"capped", tBool, "A buffering bound was hit: some payload was skipped (see warnings)."},
		{"open", tBool, "The flow was still open when the capture ended (no FIN/RST close, not evicted): it may have gone on after it."},
	},
}

// FlowsOpen holds, during a live capture or an ingest from a pipe, the
// flows not ended yet.
var FlowsOpen = &Table{
	Name: "flows_open",
	Doc: "During a live capture (or an ingest from a pipe), the flows tracked but not ended yet, as they stood at the last commit (at most about a second old); open is false for connections closed by FINs or a reset and waiting out the 5 s close delay. " +
		"Rewritten at every commit and emptied when the capture ends, when its flows are written to flows (those still open with open = true). " +
		"SELECT * FROM flows UNION ALL SELECT * FROM flows_open gives every flow so far.",
	Columns: Flows.Columns,
}

// TCPEvents has one row per flagged TCP segment (tshark tcp.analysis).
var TCPEvents = &Table{
	Name: "tcp_events",
	Doc:  "One row per flagged TCP segment, with tshark's tcp.analysis meaning and precedence.",
	Columns: []Column{
		{"capture_id", tI32, "Capture."},
		{"frame", tI64, "Frame of the flagged segment."},
		{"ts", tTs, "Its timestamp."},
		{"flow_id", tI64, "Flow."},
		{"direction", tStr, "'orig' or 'resp'."},
		{"kind", tStr, "retransmission, fast_retransmission, spurious_retransmission, out_of_order, lost_segment, dup_ack, zero_window, zero_window_probe, window_full, keep_alive, syn_retry or rst."},
		{"seq", tU32, "Sequence number relative to the direction's initial sequence number when known, else raw."},
		{"seg_len", tI32, "TCP payload length of the segment."},
		{"orig_frame", tI64, "Frame that first carried this data, where known."},
		{"since_orig_ms", tF64, "Time since orig_frame in ms."},
	},
}

// Retransmits is a view over tcp_events.
var Retransmits = &Table{
	Name: "retransmits",
	Doc:  "tcp_events rows of the retransmission kinds (retransmission, fast_retransmission, spurious_retransmission).",
	View: "SELECT * FROM tcp_events WHERE kind IN ('retransmission', 'fast_retransmission', 'spurious_retransmission')",
}

// HTTP has one row per HTTP/1.x transaction. It is a view over HTTPData,
// which stores the two header maps as JSON text: DuckDB stores a MAP of
// string lists as several string columns per entry, and writing them was
// 13% of a full ingest of the benchmark capture (see
// benchmarks/RESULTS.md); the view turns them back into maps.
var HTTP = &Table{
	Name: "http",
	Doc:  "One row per HTTP/1.x transaction (request paired with response) from reassembled TCP streams, on any port. Text taken from the traffic (method, URI, headers, reason phrase) is stored as UTF-8: a byte that is not part of valid UTF-8 is written as \\xNN, as Zeek logs it. A view over http_data, which keeps the header maps as JSON text.",
	Columns: []Column{
		{"capture_id", tI32, "Capture."},
		{"flow_id", tI64, "Connection (flows.flow_id)."},
		{"community_id", tStr, "Community ID of the connection."},
		{"trans_depth", tI32, "1-based position of the transaction in its connection (Zeek's trans_depth)."},
		{"ts_req_start", tTs, "Timestamp of the frame holding the first byte of the request line."},
		{"ts_req_end", tTs, "Timestamp of the frame completing the request (last header byte, or last body byte when there is a body)."},
		{"ts_resp_start", tTs, "Timestamp of the frame holding the first byte of the status line (for a 100-continue exchange: of the final response)."},
		{"ts_resp_end", tTs, "Timestamp of the frame completing the response body (or headers when there is no body)."},
		{"ttfb_ms", tF64, "Time to first byte: ts_resp_start - ts_req_end in ms. Equals tshark's http.time when tshark reports requests where they complete (its default) and responses at their first segment (http.desegment_body off). Negative when the server answered before the request ended (e.g. a final response sent before a 100-continue body)."},
		{"duration_ms", tF64, "ts_resp_end - ts_req_start in ms."},
		{"req_frame", tI64, "Frame holding the first request byte."},
		{"resp_frame", tI64, "Frame holding the first status-line byte."},
		{"method", tStr, "Request method."},
		{"host", tStr, "Host header."},
		{"uri", tStr, "Request target as sent: '' when the request line has none (GET  HTTP/1.1), as Zeek logs it; NULL when the request was not seen."},
		{"path", tStr, "uri up to '?' ('' when uri is '')."},
		{"query", tStr, "uri after '?', NULL when absent."},
		{"version", tStr, "Request HTTP version, e.g. '1.1'."},
		{"user_agent", tStr, "User-Agent header."},
		{"referrer", tStr, "Referer header."},
		{"req_content_type", tStr, "Request Content-Type."},
		{"req_body_len", tI64, "Request body length, de-chunked and decompressed (gzip, deflate), as resp_body_len and Zeek's request_body_len."},
		{"status_code", tI32, "Response status code."},
		{"status_msg", tStr, "Response reason phrase."},
		{"resp_version", tStr, "Response HTTP version."},
		{"resp_content_type", tStr, "Response Content-Type."},
		{"transfer_encoding", tStr, "Transfer-Encoding header."},
		{"content_encoding", tStr, "Content-Encoding header."},
		{"resp_body_len", tI64, "Response body length, de-chunked and decompressed."},
		{"resp_wire_len", tI64, "Response body bytes as on the wire (chunk framing excluded, before decompression)."},
		{"req_headers", tHeader, "Request headers: name -> values, names in order of first appearance, a repeated field's values in order. NULL when the request was not seen."},
		{"resp_headers", tHeader, "Response headers, as req_headers."},
		{"upgrade", tStr, "'websocket', 'h2c' or 'connect' when the connection left HTTP/1.x here, else NULL."},
		{"missing", tStr, "'response' or 'request' when one side was never seen, else NULL."},
		{"gap", tBool, "True when a stream gap touched the transaction."},
		{"error", tStr, "NULL or a Zeek-style problem name (HTTP_bad_chunk_size, inflate_failed, unmatched_HTTP_reply, ...)."},
	},
}

// HTTPData stores the rows of the http view.
var HTTPData = dataTable(HTTP, "http_data",
	"Storage behind the http view (query http instead): the same rows, with the header maps stored as JSON text.",
	map[string]stored{
		"req_headers":  {[]Column{{"req_headers_json", tStr, "Request headers as a JSON object: name -> array of values, in order."}}, headersSQL("req_headers_json")},
		"resp_headers": {[]Column{{"resp_headers_json", tStr, "Response headers as a JSON object, as req_headers_json."}}, headersSQL("resp_headers_json")},
	})

// headersSQL turns a JSON object of header names to value arrays into
// MAP(VARCHAR, VARCHAR[]), keeping the order of the names.
func headersSQL(col string) string {
	return fmt.Sprintf(`json_transform(%s, '"MAP(VARCHAR, VARCHAR[])"')`, col)
}

// HTTPBodies holds bodies when ingest runs with --bodies.
var HTTPBodies = &Table{
	Name: "http_bodies",
	Doc:  "HTTP bodies (only with ingest --bodies), decoded and capped.",
	Columns: []Column{
		{"capture_id", tI32, "Capture."},
		{"flow_id", tI64, "Connection."},
		{"trans_depth", tI32, "Transaction within the connection."},
		{"direction", tStr, "'request' or 'response'."},
		{"body", tBlob, "Decoded body bytes, at most the configured cap."},
		{"truncated", tBool, "True when the body was longer than the cap."},
	},
}

// Core lists the tables and views this package declares, in
// documentation order (tables are created before views). The protocol
// analyzers declare theirs in their own packages; analyzers/all.Tables is
// every table pcapq writes, Core's and the analyzers'. Every table but
// pcapq_meta has a capture_id column (PerCapture).
var Core = []*Table{Captures, Packets, PacketsData, Warnings, Flows, FlowsOpen, TCPEvents, Retransmits, HTTP, HTTPData, HTTPBodies, Meta}
