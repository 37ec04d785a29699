package report

import (
	"testing"

	"github.com/pcapq/pcapq/internal/reporttest"
	"github.com/pcapq/pcapq/query"
)

func openDB(t testing.TB, path string, files ...string) *query.DB {
	return reporttest.OpenDB(t, path, files...)
}

func hostileCapture(t testing.TB) string { return reporttest.HostileCapture(t) }

var IngestFile = reporttest.IngestFile

const (
	smallMix      = "../testdata/mkcapture-small-mix.pcap"
	hostileURI    = reporttest.HostileURI
	hostileURI2   = reporttest.HostileURI2
	hostileHost   = reporttest.HostileHost
	hostileUA     = reporttest.HostileUA
	hostileReason = reporttest.HostileReason
	hostileDir    = reporttest.HostileDir
)
