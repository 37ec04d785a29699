// Package report computes pcapq's report of a database and writes it as
// one self-contained HTML page, as Markdown or as JSON.
//
// Build runs SQL through a Querier (*query.DB is one): every figure is
// aggregated by DuckDB, and every table is limited in SQL, so the report's
// memory does not grow with the database. The sections are an overview
// (captures, time span, link types, warnings), traffic (packets/s and
// bits/s by protocol, protocol mix, services, top talkers, conversations,
// busiest ports), TCP health (handshake RTT distribution, retransmission
// rate overall and per connection, resets, zero windows, connection
// states, the worst connections) and HTTP (methods, statuses, hosts and
// endpoints with ttfb and duration percentiles, user agents, protocol
// problems, the latency distribution, the slowest transactions), plus a
// section for every table that declares report queries in its
// schema.Table (Report; analyzers/all.Tables lists them), so that a new
// protocol table needs no report code: dns, tls and websocket have theirs. HTTP endpoints are keyed by EndpointKey (ids folded to {id}).
//
// The three renderers print one Report value, so their numbers agree; the
// tests recompute every figure in Go from the tables' rows. The HTML page
// embeds the charting library uPlot (assets/, MIT license) with go:embed,
// its data as JSON in a script element and its style, and forbids with
// its Content-Security-Policy any request to any host: it opens offline.
// Text from the capture is escaped for where it is written: html/template
// for elements, attributes and the JSON in the script element, MDText for
// Markdown, encoding/json for JSON; the page's script writes text with
// textContent only.
//
// It must be built with the build tag duckdb_arrow (it imports query).
package report
