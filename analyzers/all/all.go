// Package all lists pcapq's protocol analyzers: adding a protocol is one
// package under analyzers/ and one line here (see package analyzers).
package all

import (
	"github.com/pcapq/pcapq/analyzers"
	"github.com/pcapq/pcapq/analyzers/dns"
	httpa "github.com/pcapq/pcapq/analyzers/http"
	"github.com/pcapq/pcapq/analyzers/tls"
	"github.com/pcapq/pcapq/analyzers/websocket"
	"github.com/pcapq/pcapq/httpextract"
	"github.com/pcapq/pcapq/schema"
)

// Analyzers returns the analyzers in detection order: a TCP connection
// goes to the first whose detector says yes. HTTP comes last among the
// TCP detectors because it takes every stream (httpextract recognises
// HTTP by content itself and drops the others after a few bytes).
func Analyzers(http httpextract.Options) []*analyzers.Analyzer {
	return []*analyzers.Analyzer{
		dns.Analyzer,
		tls.Analyzer,
		httpa.New(http),
		websocket.Analyzer,
	}
}

// Tables is every table and view pcapq writes, in documentation order:
// package schema's (schema.Core, pcapq_meta last) with the tables the
// analyzers declare in their own packages before pcapq_meta. Package query
// creates and checks these; SCHEMA.md documents them.
var Tables = tables()

func tables() []*schema.Table {
	var out []*schema.Table
	for _, t := range schema.Core {
		if t != schema.Meta {
			out = append(out, t)
		}
	}
	for _, a := range Analyzers(httpextract.DefaultOptions()) {
		for _, t := range a.Tables {
			if t.Schema.Analyzer != "" {
				out = append(out, t.Schema)
			}
		}
	}
	return append(out, schema.Meta)
}
