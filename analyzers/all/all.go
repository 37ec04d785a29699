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
