package table

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
	"unsafe"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress/zstd"

	"github.com/gridstudy/gridstudy/internal/atomicfile"
)

// orderKey is the file metadata key that keeps the caller's column order.
// Files store their columns in that order too, but those written before
// they did hold them sorted by name: Open restores the order from it.
const orderKey = "gridstudy.columns"

const (
	// rowGroupRows bounds a row group: parquet-go holds a whole row group in
	// memory until it is flushed. 128Ki rows is close to DuckDB's own row
	// group size, so readers still get parallelism from big tables.
	rowGroupRows = 128 << 10
	// batchRows is how many rows Write gathers before handing them to
	// parquet-go, a column at a time.
	batchRows = 256
)

var errClosed = errors.New("table: writer closed")

// codec is shared by all writers so that its pool of zstd encoders, which are
// costly to create, serves every file a process writes.
var codec = &zstd.Codec{Level: zstd.SpeedFastest}

// Writer streams rows into a Parquet file. It is not safe for concurrent use.
type Writer struct {
	schema Schema
	leaf   []int // leaf[i] is the file column of schema[i]
	pw     *parquet.GenericWriter[any]
	// Rows are written a column at a time, straight to the column writers of
	// one row group: much faster than parquet-go's WriteRows, which splits
	// rows back into columns and copies them.
	rg     *parquet.ConcurrentRowGroupWriter
	cols   [][]parquet.Value // cols[i]: the pending values of schema[i]
	n      int               // number of pending rows
	rgRows int               // rows written to rg
	err    error             // first parquet-go failure: the file is unusable after it
}

// NewWriter returns a Writer of tables with schema s to w. The file is
// zstd-compressed, with version 1 data pages and plain-encoded strings: the
// settings that every Parquet reader handles, old pyarrow and Spark included.
// Nothing is complete in w until Close.
func NewWriter(w io.Writer, s Schema) (*Writer, error) {
	if err := s.validate(); err != nil {
		return nil, err
	}
	ps, leaf := s.parquetSchema()
	order, err := json.Marshal(names(s))
	if err != nil {
		return nil, err
	}
	pw := parquet.NewGenericWriter[any](w, ps,
		parquet.Compression(codec),
		parquet.DataPageVersion(1),
		parquet.DefaultEncodingFor(parquet.ByteArray, &parquet.Plain),
		parquet.KeyValueMetadata(orderKey, string(order)),
	)
	values := make([]parquet.Value, batchRows*len(s))
	cols := make([][]parquet.Value, len(s))
	for i := range cols {
		cols[i] = values[i*batchRows : (i+1)*batchRows : (i+1)*batchRows]
	}
	return &Writer{schema: s, leaf: leaf, pw: pw, rg: pw.BeginRowGroup(), cols: cols}, nil
}

func names(s Schema) []string {
	n := make([]string, len(s))
	for i, c := range s {
		n[i] = c.Name
	}
	return n
}

// Write adds one row. row holds a value for each column of the schema, in
// its order: int64 or int for Int64 columns; float64, int64 or int for Double
// columns; string, bool and time.Time for the others; nil for NULL. Zero
// values are values, never NULL. A value of another type is an error naming
// the column, and the row is not written; the Writer stays usable.
func (w *Writer) Write(row []any) error {
	if w.err != nil {
		return w.err
	}
	if len(row) != len(w.schema) {
		return fmt.Errorf("row has %d values for %d columns", len(row), len(w.schema))
	}
	for i, v := range row {
		// Values are built in place with the inlinable setters: copying
		// 24-byte Values through Value.Level cost a third of the time.
		dst := &w.cols[i][w.n]
		if err := value(dst, w.schema[i], v); err != nil {
			return err
		}
		if !dst.IsNull() {
			dst.SetDefinitionLevel(1)
		}
		dst.SetColumnIndex(w.leaf[i])
	}
	w.n++
	if w.n == batchRows {
		return w.flush()
	}
	return nil
}

// value stores v in dst as a Parquet value of column c (levels unset), or
// says why it cannot. Doing the checks here, rather than in parquet-go, turns
// its panics and silent conversions ("42" into an INT64) into errors.
func value(dst *parquet.Value, c Column, v any) error {
	if v == nil {
		*dst = parquet.NullValue()
		return nil
	}
	switch c.Kind {
	case Int64:
		switch x := v.(type) {
		case int64:
			*dst = parquet.Int64Value(x)
			return nil
		case int:
			*dst = parquet.Int64Value(int64(x))
			return nil
		}
	case Double:
		switch x := v.(type) {
		case float64:
			*dst = parquet.DoubleValue(x)
			return nil
		case int64:
			*dst = parquet.DoubleValue(float64(x))
			return nil
		case int:
			*dst = parquet.DoubleValue(float64(x))
			return nil
		}
	case String:
		if x, ok := v.(string); ok {
			// parquet-go copies the bytes into its column buffers and never
			// writes through them, so the string need not be copied here.
			*dst = parquet.ByteArrayValue(unsafe.Slice(unsafe.StringData(x), len(x)))
			return nil
		}
	case Bool:
		if x, ok := v.(bool); ok {
			*dst = parquet.BooleanValue(x)
			return nil
		}
	case Timestamp:
		if x, ok := v.(time.Time); ok {
			*dst = parquet.Int64Value(x.UnixMicro())
			return nil
		}
	}
	return fmt.Errorf("column %q is %s: cannot write %T value %v", c.Name, c.Kind, v, v)
}

// flush hands the pending rows to parquet-go.
func (w *Writer) flush() (err error) {
	if w.n == 0 {
		return nil
	}
	defer func() {
		// The values were checked by Write, so a panic here is a parquet-go
		// bug; it must still not take the caller's process down.
		if r := recover(); r != nil {
			err = fmt.Errorf("parquet: %v", r)
		}
		w.err = err
	}()
	columns := w.rg.ColumnWriters()
	for i, vals := range w.cols {
		if _, err := columns[w.leaf[i]].WriteRowValues(vals[:w.n]); err != nil {
			return fmt.Errorf("parquet: column %q: %w", w.schema[i].Name, err)
		}
	}
	w.rgRows += w.n
	w.n = 0
	if w.rgRows >= rowGroupRows {
		return w.commit()
	}
	return nil
}

// commit ends the current row group.
func (w *Writer) commit() error {
	if w.rgRows == 0 {
		return nil
	}
	if _, err := w.rg.Commit(); err != nil {
		return fmt.Errorf("parquet: %w", err)
	}
	w.rgRows = 0
	return nil
}

// Close writes the pending rows and the file footer. It does not close the
// underlying io.Writer. Writes after Close are errors.
func (w *Writer) Close() (err error) {
	if w.err != nil {
		return w.err
	}
	if err := w.flush(); err != nil {
		return err
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("parquet: %v", r)
		}
		if err == nil {
			w.err = errClosed
		}
	}()
	if err := w.commit(); err != nil {
		return err
	}
	return w.pw.Close()
}

// WriteFile writes the table that fill produces to path, atomically, by
// package atomicfile: the file is written under a temporary name in the
// same folder (a dot file ending in ".tmp", which globs for *.parquet never
// match), synced and renamed, and the folder is synced; it gets mode 0666
// less the umask, as os.Create would give it, since result files are meant
// to be shared the way the user shares everything else. A reader never
// sees half a file, and a killed writer leaves at most a temporary file.
// On any error, a panic in fill included, the temporary file is removed
// and path is left as it was.
func WriteFile(path string, s Schema, fill func(w *Writer) error) error {
	return atomicfile.Write(path, 0o666, true, func(f io.Writer) error {
		w, err := NewWriter(f, s)
		if err != nil {
			return err
		}
		if err := fill(w); err != nil {
			return err
		}
		return w.Close()
	})
}
