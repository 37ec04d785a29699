// Package dns parses DNS messages and pairs queries with responses into
// rows of the dns table, with Zeek's dns.log semantics, over UDP (one
// message per datagram) and TCP (messages framed by a 2-byte length).
//
// # Rows
//
// Conn holds one flow's state. A response is paired with the oldest
// unanswered query of the same transaction id (Zeek keeps a queue per id);
// a response seen before its query waits for it. Each pair is one Row,
// emitted when it is complete; at Close, queries never answered are emitted
// with Missing = "response" and responses without a query with Missing =
// "request", in the order they were seen. Only standard queries (opcode 0)
// are tracked, as Zeek does.
//
// Fields follow dns.log: query is the first question's name, lower-cased,
// without the trailing dot; qtype_name, qclass_name and rcode_name are
// Zeek's names (QTypeName, QClassName, RcodeName); answers are the answer
// section's records rendered as Zeek renders them (addresses, names, "TXT
// <len> <text>", "<unknown type=N>", ...; OPT, HINFO, WKS, CAA, SVCB,
// HTTPS and TSIG records are not listed, as Zeek lists none for them),
// with their TTLs; rejected is Zeek's: a response with no records at all,
// or an error code with no question. Where Zeek's script sets a field only
// as a side effect of an answer record, this package takes it from the
// message: AA and RA come from every response's header, and the round-trip
// time is set for every pair (Zeek sets rtt, AA and RA only when the
// response holds an answer record). TC is set when either message had it.
//
// # Bad input
//
// Every count is bounded: a message claiming more than MaxQuestions
// questions is not DNS (Zeek's dns_max_queries; warned, no row); at most
// MaxAnswers answers are read; a name is at most 255 octets; compression
// pointers must point strictly backwards (as Zeek requires, so a pointer
// loop ends at its first step) and at most 64 are followed per name. A
// malformed message is a warning (Zeek's weird.log names, the Err*
// constants), and still a row with what was read before the problem when
// its 12-byte header is there. Pending queries are bounded per id and in
// ids (MaxPendingPerID, MaxPendingIDs, Zeek's max_pending_msgs and
// max_pending_query_ids): past them the unmatched rows are given up
// (emitted unpaired). Over TCP a message is at most 65535 bytes (its length
// prefix); a gap loses the framing, so the rest of that direction is
// skipped with one warning; a message cut by the end of the connection is
// warned and parsed as far as it goes.
package dns
