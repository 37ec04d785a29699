package schema

// ReportQuery is a query whose result `pcapq report` and `pcapq serve`
// show as a table in a section of their own for the table that declares
// it (Table.Report), so that a protocol table (DNS, TLS, ...) appears in
// the report without any change to the report code.
//
// SQL is one SELECT over the declaring table (and any other). The report
// runs it with the table's name bound to the rows of the captures being
// reported on (a common table expression of that name shadows the table),
// and shows at most the report's row limit of its result, in its order.
// Aggregate in SQL: the report keeps only the rows it shows.
type ReportQuery struct {
	Title string // heading of the result table
	Doc   string // what the result measures, shown under the heading
	SQL   string
}

// The report queries of the tables declared in tables.go are set here, so
// that the table definitions keep to columns.
func init() {
	HTTPBodies.Report = []ReportQuery{{
		Title: "Bodies kept",
		Doc:   "HTTP bodies kept with ingest --bodies, by direction: bodies, bodies cut at --body-cap, and bytes kept.",
		SQL: "SELECT direction, count(*) AS bodies, count(*) FILTER (WHERE truncated) AS truncated, " +
			"sum(octet_length(body))::BIGINT AS bytes_kept FROM http_bodies GROUP BY direction ORDER BY direction",
	}}
}
