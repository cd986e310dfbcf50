package table

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"
)

// smallFile is the size up to which Open reads a whole file at once, and
// decodes it with decodeSmall when it can: one read instead of one per footer
// part and column chunk, and no parquet-go set-up per file, make collecting
// thousands of one-row shards several times faster.
const smallFile = 1 << 20

// readRows is how many rows Reader asks parquet-go for at once. parquet-go
// allocates room for all of them up front, so more costs one-row shards
// (most of what collect reads), and more than a few rows per call makes big
// tables no faster.
const readRows = 4

// Reader streams the rows of a Parquet table, one row group in memory at a
// time. It is not safe for concurrent use.
type Reader struct {
	closer io.Closer // the file Open opened; nil for NewReader
	schema Schema
	kinds  []Kind // kinds[c] is the kind of file column c
	pos    []int  // pos[c] is the position of file column c in schema
	groups []parquet.RowGroup
	rows   parquet.Rows // rows of groups[0], nil before it is opened
	buf    []parquet.Row
	n      int // number of rows in buf
	next   int // index in buf of the next row to return
	// decoded holds the rows still to return when Open decoded the whole
	// file at once (see decodeSmall); nil otherwise.
	decoded [][]any
	err     error
}

// Open opens the table file at path. The caller must Close the Reader.
func Open(path string) (*Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	var r *Reader
	if fi.Size() <= smallFile {
		data := make([]byte, fi.Size())
		_, err = io.ReadFull(f, data)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
		if r = decodeSmall(data); r != nil {
			return r, nil
		}
		r, err = NewReader(bytes.NewReader(data), int64(len(data)))
	} else {
		r, err = NewReader(f, fi.Size())
		if err == nil {
			r.closer = f
		} else {
			f.Close()
		}
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return r, nil
}

// NewReader returns a Reader of the size bytes of table in ra. The file must
// be flat (no nested or repeated columns) and of the types that Writer
// writes; an unreadable file is an error, never a panic.
func NewReader(ra io.ReaderAt, size int64) (r *Reader, err error) {
	defer func() {
		if p := recover(); p != nil {
			r, err = nil, fmt.Errorf("corrupt parquet file: %v", p)
		}
	}()
	if err := checkFooter(ra, size); err != nil {
		return nil, err
	}
	f, err := parquet.OpenFile(ra, size, parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
	if err != nil {
		return nil, err
	}
	fields := f.Schema().Fields()
	r = &Reader{
		schema: make(Schema, len(fields)),
		kinds:  make([]Kind, len(fields)),
		pos:    make([]int, len(fields)),
		groups: f.RowGroups(),
		buf:    make([]parquet.Row, readRows),
	}
	for i, field := range fields {
		k, err := kindOf(field)
		if err != nil {
			return nil, err
		}
		r.schema[i] = Column{Name: field.Name(), Kind: k}
		r.kinds[i] = k
		r.pos[i] = i
	}
	r.restoreOrder(f.Lookup(orderKey))
	return r, nil
}

// checkFooter checks the trailer of a Parquet file (footer length, "PAR1")
// before parquet-go reads it: parquet-go allocates whatever length a damaged
// trailer claims, gigabytes and seconds for one flipped byte.
func checkFooter(ra io.ReaderAt, size int64) error {
	const trailer = 8 // footer length (uint32, little endian) and magic
	if size < 4+trailer {
		return fmt.Errorf("not a parquet file: %d bytes", size)
	}
	var b [trailer]byte
	if _, err := ra.ReadAt(b[:], size-trailer); err != nil {
		return err
	}
	if string(b[4:]) != "PAR1" {
		return errors.New("not a parquet file or truncated: no PAR1 at its end")
	}
	if n := int64(binary.LittleEndian.Uint32(b[:4])); n > size-4-trailer {
		return fmt.Errorf("corrupt parquet file: footer of %d bytes in a file of %d", n, size)
	}
	return nil
}

// kindOf maps a column of a file back to its Kind.
func kindOf(field parquet.Field) (Kind, error) {
	if !field.Leaf() || field.Repeated() {
		return 0, fmt.Errorf("column %q: nested or repeated columns are not supported", field.Name())
	}
	t := field.Type()
	lt := t.LogicalType()
	switch t.Kind() {
	case parquet.Int64:
		if lt == nil {
			return Int64, nil
		}
		switch l := lt.Value.(type) {
		case *format.IntType:
			if l.IsSigned {
				return Int64, nil
			}
		case *format.TimestampType:
			if _, micros := l.Unit.Value.(*format.MicroSeconds); micros {
				return Timestamp, nil
			}
		}
	case parquet.Double:
		return Double, nil
	case parquet.ByteArray:
		return String, nil
	case parquet.Boolean:
		return Bool, nil
	}
	return 0, fmt.Errorf("column %q: unsupported type %s", field.Name(), t)
}

// restoreOrder puts the schema back in the order the writer was given, when
// the file records it (v, the value of orderKey, when ok) and it names
// exactly the file's columns.
func (r *Reader) restoreOrder(v string, ok bool) {
	if !ok {
		return
	}
	var order []string
	if json.Unmarshal([]byte(v), &order) != nil || len(order) != len(r.schema) {
		return
	}
	at := make(map[string]int, len(order))
	for i, name := range order {
		at[name] = i
	}
	if len(at) != len(order) {
		return
	}
	schema := make(Schema, len(order))
	pos := make([]int, len(order))
	for c, col := range r.schema {
		i, ok := at[col.Name]
		if !ok {
			return // not in order, or a second file column of that name
		}
		delete(at, col.Name)
		schema[i] = col
		pos[c] = i
	}
	r.schema, r.pos = schema, pos
}

// Schema returns the table's columns, in the order the writer was given.
func (r *Reader) Schema() Schema { return r.schema }

// Read returns the next row, with a value per column of Schema, in its
// order: int64, float64, string, bool, time.Time (UTC) or nil for NULL. It
// returns io.EOF after the last row.
func (r *Reader) Read() (row []any, err error) {
	if r.err != nil {
		return nil, r.err
	}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("corrupt parquet file: %v", p)
		}
		if err != nil {
			r.err = err
		}
	}()
	if r.decoded != nil {
		if len(r.decoded) == 0 {
			return nil, io.EOF
		}
		row = r.decoded[0]
		r.decoded = r.decoded[1:]
		return row, nil
	}
	for r.next >= r.n {
		if err := r.fill(); err != nil {
			return nil, err
		}
	}
	src := r.buf[r.next]
	r.next++
	row = make([]any, len(r.schema))
	for _, v := range src {
		c := v.Column()
		if c < 0 || c >= len(r.pos) {
			return nil, fmt.Errorf("corrupt parquet file: value of column %d", c)
		}
		if !v.IsNull() {
			row[r.pos[c]] = goValue(r.kinds[c], v)
		}
	}
	return row, nil
}

// fill reads the next batch of rows into buf, moving on to the next row
// group when the current one is exhausted; it may leave buf empty.
func (r *Reader) fill() error {
	if r.rows == nil {
		if len(r.groups) == 0 {
			return io.EOF
		}
		r.rows = r.groups[0].Rows()
	}
	n, err := r.rows.ReadRows(r.buf)
	r.n, r.next = n, 0
	if err == nil {
		if n == 0 {
			return errors.New("parquet: no progress reading rows")
		}
		return nil
	}
	if err != io.EOF {
		return err
	}
	r.rows.Close()
	r.rows = nil
	r.groups = r.groups[1:]
	return nil
}

// goValue converts a non-NULL Parquet value of kind k to its Go value. The
// bytes of strings are copied: parquet-go reuses its buffers.
func goValue(k Kind, v parquet.Value) any {
	switch k {
	case Int64:
		return v.Int64()
	case Double:
		return v.Double()
	case String:
		return string(v.ByteArray())
	case Bool:
		return v.Boolean()
	default: // Timestamp
		return goTime(v.Int64())
	}
}

// goTime converts a Timestamp value to its Go value.
func goTime(micros int64) time.Time { return time.UnixMicro(micros).UTC() }

// Close releases the file. It is safe to call more than once.
func (r *Reader) Close() error {
	if r.rows != nil {
		r.rows.Close()
		r.rows = nil
	}
	r.decoded = nil
	if r.err == nil {
		r.err = errors.New("table: reader closed")
	}
	if c := r.closer; c != nil {
		r.closer = nil
		return c.Close()
	}
	return nil
}

// ReadFile reads the whole table at path.
func ReadFile(path string) (Schema, [][]any, error) {
	r, err := Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer r.Close()
	var rows [][]any
	for {
		row, err := r.Read()
		if err == io.EOF {
			return r.Schema(), rows, nil
		}
		if err != nil {
			return nil, nil, fmt.Errorf("read %s: %w", path, err)
		}
		rows = append(rows, row)
	}
}
