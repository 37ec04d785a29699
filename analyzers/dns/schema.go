package dns

import "github.com/pcapq/pcapq/schema"

// Schema is the dns table: it has one row per DNS query/response pair (Zeek dns.log).
var Schema = &schema.Table{
	Name:     "dns",
	Analyzer: "dns",
	Doc:      "One row per DNS query paired with its response, over UDP (ports 53, 5353, 5355) and TCP (port 53), with Zeek's dns.log semantics. A query never answered and a response without its query get rows too (missing says which). Names and text from the traffic are stored as UTF-8, a byte outside it as \\xNN.",
	Columns: []schema.Column{
		schema.Col("capture_id", schema.Int32, "Capture."),
		schema.Col("flow_id", schema.Int64, "Flow (flows.flow_id)."),
		schema.Col("community_id", schema.String, "Community ID of the flow."),
		schema.Col("ts", schema.Timestamp, "Time of the first message of the pair (the query, when seen)."),
		schema.Col("query_frame", schema.Int64, "Frame of the query (for TCP: the frame completing it); NULL when not seen."),
		schema.Col("resp_frame", schema.Int64, "Frame of the response; NULL when not seen."),
		schema.Col("proto", schema.String, "'udp' or 'tcp'."),
		schema.Col("trans_id", schema.Uint16, "Transaction id."),
		schema.Col("query", schema.String, "Name asked for (first question), lower-cased, without the trailing dot, as Zeek logs it."),
		schema.Col("qclass", schema.Uint16, "Query class."),
		schema.Col("qclass_name", schema.String, "Its name as Zeek writes it (C_INTERNET, ...)."),
		schema.Col("qtype", schema.Uint16, "Query type."),
		schema.Col("qtype_name", schema.String, "Its name as Zeek writes it (A, AAAA, PTR, *, query-N, ...)."),
		schema.Col("rcode", schema.Uint16, "Response code; NULL without a response."),
		schema.Col("rcode_name", schema.String, "Its name as Zeek writes it (NOERROR, NXDOMAIN, REFUSED, rcode-N, ...)."),
		schema.Col("aa", schema.Bool, "Authoritative Answer bit of the response."),
		schema.Col("tc", schema.Bool, "Truncation bit, of the query or the response."),
		schema.Col("rd", schema.Bool, "Recursion Desired bit of the query."),
		schema.Col("ra", schema.Bool, "Recursion Available bit of the response."),
		schema.Col("z", schema.Uint8, "The three reserved bits (Zeek's Z; AD and CD are its low bits)."),
		schema.Col("answers", schema.Strings, "Answer-section records as Zeek's dns.log renders them: addresses, names (CNAME, PTR, NS, MX exchange, SRV target, SOA primary), 'TXT <len> <text>', '<unknown type=N>'; NULL when none."),
		schema.Col("ttls", schema.Int32s, "TTL in seconds of each answer."),
		schema.Col("rtt_ms", schema.Float64, "Response time minus query time in ms; NULL unless both were seen."),
		schema.Col("rejected", schema.Bool, "Zeek's rejected: a response with no records at all, or an error code without a question."),
		schema.Col("missing", schema.String, "'response' when the query was never answered, 'request' when the response's query was not seen; NULL for a pair."),
	},
	Report: []schema.ReportQuery{{
		Title: "Names asked",
		Doc:   "DNS queries by name and type: queries, answered with an error code (not NOERROR), never answered, and the median response time in ms.",
		SQL: "SELECT query, qtype_name, count(*) AS queries, count(*) FILTER (WHERE rcode_name <> 'NOERROR') AS errors, " +
			"count(*) FILTER (WHERE missing = 'response') AS unanswered, round(median(rtt_ms), 3) AS rtt_p50_ms " +
			"FROM dns WHERE query IS NOT NULL GROUP BY query, qtype_name ORDER BY queries DESC, query, qtype_name",
	}, {
		Title: "Response codes",
		Doc:   "DNS queries by the response code of their answer ('(no response)': never answered).",
		SQL:   "SELECT coalesce(rcode_name, '(no response)') AS rcode, count(*) AS queries FROM dns GROUP BY 1 ORDER BY queries DESC, rcode",
	}, {
		Title: "Slowest lookups",
		Doc:   "The answered queries with the longest response time (response minus query, ms), with their flow and frames.",
		SQL: "SELECT round(rtt_ms, 3) AS rtt_ms, query, qtype_name, rcode_name, proto, flow_id, query_frame, resp_frame " +
			"FROM dns WHERE rtt_ms IS NOT NULL ORDER BY rtt_ms DESC, flow_id, query_frame",
	}},
}
