// Package analyzers gives pcapq's protocol analyzers one shape. An
// Analyzer declares the tables it fills, an optional TCP stream hook
// (Detect + NewStream: reassembled bytes per direction, with gaps,
// timestamps and frame numbers), an optional datagram hook (UDPPorts +
// NewDatagram: UDP payloads), and the HTTP upgrades it takes over. Its
// handlers emit rows through Env.Emit; each row type appends itself to its
// table's Arrow builder through a plan compiled from struct tags and
// checked against the schema once, at start-up (Table, NewTable). The
// ingest pipeline moves rows per table without knowing any table.
//
// # Finding the protocol
//
// Set.NewStream gives tcpsession one dispatcher per TCP connection. It
// asks the TCP analyzers' detectors, in registration order, about the
// first bytes of each direction (with the ports), holding the bytes (at
// most 64 per direction) while a detector needs more; the first Yes takes
// the connection and gets every held byte, in the order it came. DNS
// claims port 53, TLS a handshake record holding a hello on any port, and
// HTTP comes last and takes the rest (httpextract recognises HTTP by
// content and drops other streams after a few bytes), as Zeek's dynamic
// protocol detection finds protocols by content rather than by port. A
// stream that implements Handover passes the connection on: after a 101
// answer the analyzer registered for the upgrade token ("websocket") gets
// the bytes that follow; a CONNECT tunnel goes back to detection (TLS
// inside a proxy tunnel). flows.service lists every service recognised on
// the flow, in order, comma-separated as Zeek writes it ("http",
// "http,websocket", "ssl", "dns").
//
// UDP datagrams reach an analyzer only when one of its UDPPorts is on
// either side: a bitmap test per UDP packet (UDP.Wants), so flows no
// analyzer reads cost no more than before. A UDP flow's handler is closed,
// and its service set, when tcpsession ends the flow (UDP.End).
//
// Rows of one flow keep the order they were emitted in; the pipeline
// orders rows by flow id within each batch, so tables do not depend on the
// number of workers.
//
// # Adding a protocol
//
//  1. Write package analyzers/NAME: the parser (bounded against hostile
//     input, with a fuzz test); its table, `var Schema = &schema.Table{Name,
//     Analyzer: NAME, Doc, Columns: schema.Col(...)..., Report: ...}` (the
//     Report queries give it a section in pcapq report and serve); a row
//     type whose fields carry `col` tags naming their columns (options:
//     omitempty, nullneg, null=Field, ms, sec; see Table); `var Table =
//     analyzers.MustTable[Row](Schema, computed)` with a Computed function
//     for any column that is not a field; and `var Analyzer =
//     &analyzers.Analyzer{...}` with its hooks. Handlers emit rows with
//     env.Emit(Table, flowID, row) and problems with env.Warn (Zeek's
//     weird.log names where Zeek has one).
//  2. Add the analyzer to analyzers/all: one line, in detection order.
//     all.Tables then lists its table: package query creates it (in older
//     files too: an analyzer's table is additive, no schema version
//     change), SCHEMA.md documents it (`make schema-doc` regenerates it;
//     a test fails while it is stale), pcapq report shows its section.
//  3. Test it against an independent tool on a recorded capture
//     (../shared/tools/mkcapture, kept small under testdata/).
//
// A new column of an analyzer's table is one field with its tag and one
// schema.Col in its Schema; NewTable fails at start-up (every test fails)
// when the two disagree: a column with no field, a field naming no column,
// or a field whose type cannot fill the column. Package query adds the
// column, NULL for the rows already there, to a file that lacks it.
//
// The files dns, tls and websocket each touch: their own package
// (analyzers/dns, analyzers/tls, analyzers/websocket: parser, Schema, row
// type, Analyzer) and one line each in analyzers/all; SCHEMA.md is
// regenerated.
package analyzers
