package table

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/parquet-go/parquet-go"
)

// Values are the values of one column of a table, as ReadColumns returns
// them: a slice of the column's kind with one value per row, and Null[i]
// true where row i is NULL (Null is nil when no row is). Int holds the
// values of Int64 columns and of Timestamp columns (microseconds since the
// Unix epoch); a NULL's slot holds the zero value.
type Values struct {
	Column
	Int    []int64
	Double []float64
	String []string
	Bool   []bool
	Null   []bool
}

// valuesBatch is how many values ReadColumns takes from a page at once.
const valuesBatch = 1024

// ReadColumns reads the named columns of the table at path whole, in the
// order of names, with no row of boxed values per row: a caller that needs
// a few columns of a big table (status reads five of a manifest of a
// million rows) skips the others and a dozen allocations a row. A name the
// table lacks is an error.
func ReadColumns(path string, names ...string) (out []Values, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	defer func() {
		if p := recover(); p != nil {
			out, err = nil, fmt.Errorf("read %s: corrupt parquet file: %v", path, p)
		}
	}()
	if err := checkFooter(f, fi.Size()); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	pf, err := parquet.OpenFile(f, fi.Size(), parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	fields := pf.Schema().Fields()
	leaf := make([]int, len(names)) // leaf[i]: the file column of names[i]
	out = make([]Values, len(names))
	for i, name := range names {
		leaf[i] = -1
		for c, field := range fields {
			if field.Name() == name {
				leaf[i] = c
			}
		}
		if leaf[i] < 0 {
			return nil, fmt.Errorf("read %s: no column %q", path, name)
		}
		k, err := kindOf(fields[leaf[i]])
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
		out[i].Column = Column{Name: name, Kind: k}
	}
	n := int(pf.NumRows())
	for i := range out {
		v := &out[i]
		switch v.Kind {
		case Int64, Timestamp:
			v.Int = make([]int64, 0, n)
		case Double:
			v.Double = make([]float64, 0, n)
		case String:
			v.String = make([]string, 0, n)
		case Bool:
			v.Bool = make([]bool, 0, n)
		}
	}
	buf := make([]parquet.Value, valuesBatch)
	for _, rg := range pf.RowGroups() {
		chunks := rg.ColumnChunks()
		for i := range out {
			if err := readChunk(chunks[leaf[i]], &out[i], buf); err != nil {
				return nil, fmt.Errorf("read %s: column %q: %w", path, names[i], err)
			}
		}
	}
	for i := range out {
		if got := out[i].len(); got != n {
			return nil, fmt.Errorf("read %s: column %q has %d values in %d rows", path, names[i], got, n)
		}
	}
	return out, nil
}

// readChunk appends the values of one column chunk to v.
func readChunk(chunk parquet.ColumnChunk, v *Values, buf []parquet.Value) error {
	pages := chunk.Pages()
	defer pages.Close()
	for {
		p, err := pages.ReadPage()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		r := p.Values()
		for {
			k, err := r.ReadValues(buf)
			for _, x := range buf[:k] {
				v.add(x)
			}
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				parquet.Release(p)
				return err
			}
		}
		parquet.Release(p)
	}
}

// add appends one value.
func (v *Values) add(x parquet.Value) {
	if x.IsNull() {
		if v.Null == nil {
			v.Null = make([]bool, v.len(), cap(v.Int)+cap(v.Double)+cap(v.String)+cap(v.Bool))
		}
		v.Null = append(v.Null, true)
		switch v.Kind {
		case Int64, Timestamp:
			v.Int = append(v.Int, 0)
		case Double:
			v.Double = append(v.Double, 0)
		case String:
			v.String = append(v.String, "")
		case Bool:
			v.Bool = append(v.Bool, false)
		}
		return
	}
	if v.Null != nil {
		v.Null = append(v.Null, false)
	}
	switch v.Kind {
	case Int64, Timestamp:
		v.Int = append(v.Int, x.Int64())
	case Double:
		v.Double = append(v.Double, x.Double())
	case String:
		v.String = append(v.String, string(x.ByteArray()))
	case Bool:
		v.Bool = append(v.Bool, x.Boolean())
	}
}

// len is the number of values read so far.
func (v *Values) len() int { return len(v.Int) + len(v.Double) + len(v.String) + len(v.Bool) }
