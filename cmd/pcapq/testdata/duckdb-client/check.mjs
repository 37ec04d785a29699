import { DuckDBInstance } from '@duckdb/node-api';
const inst = await DuckDBInstance.create(process.argv[2], { access_mode: 'READ_ONLY' });
const conn = await inst.connect();
for (const q of [
  "SELECT version() AS duckdb",
  "SELECT count(*)::INT AS packets, count(DISTINCT flow_id)::INT AS flows FROM packets",
  "SELECT typeof(ts) AS ts_type, typeof(req_headers) AS hdr_type FROM http JOIN packets USING (capture_id) LIMIT 1",
  "SELECT method, uri, status_code, req_headers['Host'][1] AS host FROM http ORDER BY flow_id, trans_depth LIMIT 2",
]) {
  const r = await conn.runAndReadAll(q);
  console.log(JSON.stringify(r.getRowObjectsJson()));
}
