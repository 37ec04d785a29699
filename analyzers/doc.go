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
//  1. Write the table in package schema (name, columns, their meaning) and
//     add it to schema.All; raise schema.Version with a migration that
//     creates the table in older files (package query).
//  2. Write package analyzers/NAME: the parser (bounded against hostile
//     input, with a fuzz test), a row type whose fields carry `col` tags
//     naming their columns (options: omitempty, nullneg, null=Field, ms,
//     sec; see Table), `var Table = analyzers.MustTable[Row](schema.X,
//     computed)` with a Computed function for any column that is not a
//     field, and `var Analyzer = &analyzers.Analyzer{...}` with its hooks.
//     Handlers emit rows with env.Emit(Table, flowID, row) and problems
//     with env.Warn (Zeek's weird.log names where Zeek has one).
//  3. Add the analyzer to analyzers/all: one line, in detection order.
//  4. Test it against an independent tool on a recorded capture
//     (../shared/tools/mkcapture, kept small under testdata/).
//
// A new column of an existing table is one field with its tag and one
// entry in the schema; NewTable fails at start-up (every test fails) when
// the two disagree: a column with no field, a field naming no column, or
// a field whose type cannot fill the column.
//
// The tables and what touched them when dns, tls and websocket were added:
// schema/protocols.go (the three tables), analyzers/dns, analyzers/tls,
// analyzers/websocket (parser, row type, Analyzer), and one line each in
// analyzers/all.
package analyzers
