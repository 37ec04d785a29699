package query

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/pcapq/pcapq/schema"
)

// packetsBatch builds n synthetic packets rows shaped like real traffic.
func packetsBatch(n int, first int64) arrow.RecordBatch {
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema.PacketsData.ArrowSchema())
	defer b.Release()
	for i := 0; i < n; i++ {
		for c, col := range schema.PacketsData.Columns {
			fb := b.Field(c)
			switch x := fb.(type) {
			case *array.Int32Builder:
				x.Append(int32(i % 1500))
			case *array.Int64Builder:
				x.Append(first + int64(i))
			case *array.TimestampBuilder:
				x.Append(arrow.Timestamp(1_700_000_000_000_000_000 + (first+int64(i))*1000))
			case *array.Uint8Builder:
				x.Append(uint8(i))
			case *array.Uint16Builder:
				x.Append(uint16(i))
			case *array.Uint32Builder:
				x.Append(uint32(i * 7919))
			case *array.BooleanBuilder:
				x.Append(false)
			case *array.StringBuilder:
				switch col.Name {
				case "src_ip", "dst_ip":
					x.Append(fmt.Sprintf("10.77.0.%d", i%2+1))
				case "eth_src", "eth_dst":
					x.Append("aa:bb:cc:dd:ee:0" + fmt.Sprint(i%2))
				case "tcp_flags":
					x.Append("A")
				default:
					x.Append("orig")
				}
			default:
				fb.AppendNull()
			}
		}
	}
	return b.NewRecordBatch()
}

// BenchmarkWritePackets measures DuckDB's side of ingest alone: 262144
// packets rows written through the Arrow scan into a file and committed.
func BenchmarkWritePackets(b *testing.B) {
	const n = 1 << 18
	recs := make([]arrow.RecordBatch, 0, n/8192)
	for i := 0; i < n/8192; i++ {
		recs = append(recs, packetsBatch(8192, int64(i*8192)))
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		db, err := Open(ctx, filepath.Join(b.TempDir(), "b.duckdb"))
		if err != nil {
			b.Fatal(err)
		}
		if err := db.EnsureSchema(ctx); err != nil {
			b.Fatal(err)
		}
		if _, err := db.BeginCapture(ctx, "x"); err != nil {
			b.Fatal(err)
		}
		if err := db.Write(schema.PacketsData, recs); err != nil {
			b.Fatal(err)
		}
		if err := db.FinishCapture(ctx, CaptureRow{ID: 1, Path: "x"}); err != nil {
			b.Fatal(err)
		}
		db.Close()
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "rows/s")
}
