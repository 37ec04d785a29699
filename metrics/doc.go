// Package metrics measures a capture the way people reason about traffic
// and compares two of them, for pcapq diff and pcapq check (CI regression
// checks):
//
//	database (query.DB) -> Collect -> Snapshot -> Compare / Check -> Report (text, md, json, junit)
//
// Collect runs SQL over pcapq's tables (it needs only a Querier, which
// *query.DB is) and returns a Snapshot: global metrics, per HTTP endpoint
// (EndpointKey: method, host, path template), per HTTP host name, per
// server address, and the hosts and ports contacted. Every value carries
// its sample size, so that rules can ignore what chance moves. The metric
// names, units and meanings are in Catalog.
//
// Rules are text: a diff rule METRIC[SCOPE]:CHANGE (ParseDiffRule), a
// check METRIC[SCOPE] OP VALUE (ParseCheckRule), several in a YAML rules
// file with an allowlist (LoadRules). DefaultDiffRules is the built-in set,
// chosen not to raise false alarms between two recordings of one workload.
//
// Text from the traffic (host names, paths) is escaped where a report
// writes it: EscapeText for terminals and logs, Markdown code spans, XML
// escaping, JSON's own rules. Counts of subjects are bounded (MaxSubjects).
//
// The package is pure Go; its tests that run SQL need the duckdb_arrow
// build tag, like package query.
package metrics
