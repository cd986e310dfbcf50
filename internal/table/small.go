package table

import (
	"encoding/binary"
	"hash/crc32"
	"math"
	"slices"
	"sync"
)

// The fast path of Open for small files. Collect reads thousands of one-row
// shards, and parquet-go spends most of their cost on what does not depend on
// the row: decoding the footer by reflection, building a schema and column
// readers, and clearing buffers sized for big row groups. decodeSmall instead
// parses the footer with a hand-written Thrift reader, takes what depends
// only on the schema from a cache shared by every file of that schema, and
// decodes the pages straight into rows. It handles what Writer writes (flat
// columns, version 1 data pages, PLAIN values, RLE definition levels, zstd or
// no compression); for anything else, or anything it finds inconsistent, it
// declines and Open uses parquet-go, which then reports the errors.

// smallRows is the most rows decodeSmall decodes: it holds them all in
// memory at once, which is cheaper than streaming only for small tables.
const smallRows = 1024

// Parquet enumerations (parquet.thrift) that decodeSmall handles.
const (
	typeBoolean   = 0
	typeInt64     = 2
	typeDouble    = 5
	typeByteArray = 6

	repRequired = 0
	repOptional = 1

	encPlain = 0
	encRLE   = 3

	codecNone = 0
	codecZstd = 6

	pageData = 0
)

// layout is what decodeSmall derives from a file's schema and column order
// metadata: the same for every file that has the same ones.
type layout struct {
	schema   Schema   // in the writer's order, as Reader.Schema returns it
	names    []string // names[c] is the name of file column c
	kinds    []Kind   // kinds[c] is the kind of file column c
	phys     []int64  // phys[c] is the Parquet physical type of file column c
	optional []bool   // optional[c]: file column c has definition levels
	pos      []int    // pos[c] is the position of file column c in schema
}

// layoutKey identifies a layout: the footer's schema, as bytes, and the value
// of its column order metadata.
type layoutKey struct {
	schema, order string
	hasOrder      bool
}

// maxLayouts bounds the layout cache: a process reads tables of a few
// schemas, but damaged footers could otherwise fill it with junk.
const maxLayouts = 256

var layouts = struct {
	sync.RWMutex
	m map[layoutKey]*layout
}{m: map[layoutKey]*layout{}}

// footer is what decodeSmall reads from a file's footer.
type footer struct {
	schema   []byte // the encoded schema list
	order    []byte // the column order metadata value
	hasOrder bool
	numRows  int64
	groups   []rowGroup
}

type rowGroup struct {
	numRows int64
	chunks  []chunk
}

type chunk struct {
	path      []byte // the column name (path_in_schema of one element)
	phys      int64
	codec     int64
	numValues int64
	offset    int64 // of the first page
	size      int64 // total_compressed_size
	external  bool  // file_path is set: the data is in another file
}

// decodeSmall decodes the whole table file in data into a Reader, or
// returns nil when it cannot (see above); it never panics.
func decodeSmall(data []byte) (r *Reader) {
	defer func() {
		if recover() != nil {
			r = nil
		}
	}()
	if checkFooter(bytesReaderAt(data), int64(len(data))) != nil || string(data[:4]) != "PAR1" {
		return nil
	}
	n := int64(binary.LittleEndian.Uint32(data[len(data)-8:]))
	end := int64(len(data)) - 8
	var f footer
	t := thriftReader{b: data[end-n : end]}
	if !t.fileMetaData(&f) || f.numRows > smallRows || f.numRows < 0 {
		return nil
	}
	l := layoutOf(&f)
	if l == nil {
		return nil
	}
	rows := make([][]any, f.numRows)
	vals := make([]any, int(f.numRows)*len(l.schema))
	for i := range rows {
		rows[i] = vals[i*len(l.schema) : (i+1)*len(l.schema) : (i+1)*len(l.schema)]
	}
	d := pageDecoder{data: data[:end-n], l: l}
	next := 0
	for _, g := range f.groups {
		if len(g.chunks) != len(l.names) || g.numRows < 0 || int64(next)+g.numRows > f.numRows {
			return nil
		}
		for c, ch := range g.chunks {
			if !d.chunk(c, ch, rows[next:next+int(g.numRows)]) {
				return nil
			}
		}
		next += int(g.numRows)
	}
	if next != len(rows) {
		return nil
	}
	// A copy of the schema: a caller may change what Schema returns.
	return &Reader{schema: slices.Clone(l.schema), decoded: rows}
}

// bytesReaderAt reads from a byte slice, without bytes.Reader's allocation.
type bytesReaderAt []byte

func (b bytesReaderAt) ReadAt(p []byte, off int64) (int, error) {
	return copy(p, b[off:]), nil
}

// layoutOf returns the layout of the file whose footer is f, from the cache
// or built and cached, or nil when decodeSmall cannot read such a file.
func layoutOf(f *footer) *layout {
	layouts.RLock()
	l := layouts.m[layoutKey{string(f.schema), string(f.order), f.hasOrder}]
	layouts.RUnlock()
	if l != nil {
		return l
	}
	l = newLayout(f)
	if l == nil {
		return nil
	}
	layouts.Lock()
	if len(layouts.m) >= maxLayouts {
		clear(layouts.m)
	}
	layouts.m[layoutKey{string(f.schema), string(f.order), f.hasOrder}] = l
	layouts.Unlock()
	return l
}

// newLayout builds the layout of the file whose footer is f.
func newLayout(f *footer) *layout {
	t := thriftReader{b: f.schema}
	n, elem := t.listHeader()
	if elem != tStruct || n < 2 {
		return nil
	}
	l := &layout{}
	for i := range n {
		var e schemaElement
		if !t.schemaElement(&e) {
			return nil
		}
		if i == 0 {
			if e.numChildren != int64(n-1) {
				return nil
			}
			continue
		}
		k := e.kind()
		if k == 0 || e.numChildren != 0 || e.repetition != repRequired && e.repetition != repOptional {
			return nil
		}
		name := string(e.name)
		l.schema = append(l.schema, Column{Name: name, Kind: k})
		l.names = append(l.names, name)
		l.kinds = append(l.kinds, k)
		l.phys = append(l.phys, e.phys)
		l.optional = append(l.optional, e.repetition == repOptional)
		l.pos = append(l.pos, i-1)
	}
	if t.failed || t.i != len(t.b) {
		return nil
	}
	r := Reader{schema: l.schema, pos: l.pos}
	r.restoreOrder(string(f.order), f.hasOrder)
	l.schema, l.pos = r.schema, r.pos
	return l
}

// schemaElement is what decodeSmall reads of a SchemaElement.
type schemaElement struct {
	phys, repetition, numChildren int64
	hasPhys, hasRepetition        bool
	hasConverted                  bool
	name                          []byte
	logical                       int16 // the LogicalType union's field, 0 for none
	signed                        bool  // of an IntType
	bitWidth                      int64 // of an IntType
	micros                        bool  // of a TimestampType
}

// kind returns the Kind of a leaf column as kindOf would, or 0 when it is
// not one that decodeSmall reads.
func (e *schemaElement) kind() Kind {
	if !e.hasPhys || !e.hasRepetition || e.logical == 0 && e.hasConverted {
		return 0
	}
	switch {
	case e.phys == typeInt64 && e.logical == 0:
		return Int64
	case e.phys == typeInt64 && e.logical == logicalInteger && e.signed && e.bitWidth == 64:
		return Int64
	case e.phys == typeInt64 && e.logical == logicalTimestamp && e.micros:
		return Timestamp
	case e.phys == typeDouble && e.logical == 0:
		return Double
	case e.phys == typeByteArray && (e.logical == 0 || e.logical == logicalString):
		return String
	case e.phys == typeBoolean && e.logical == 0:
		return Bool
	}
	return 0
}

// pageDecoder decodes the column chunks of one file.
type pageDecoder struct {
	data []byte // the file up to its footer
	l    *layout
	buf  []byte // scratch for decompressed pages
	defs []byte // scratch for definition levels
}

// chunk decodes column chunk ch of file column c into rows.
func (d *pageDecoder) chunk(c int, ch chunk, rows [][]any) bool {
	if ch.external || ch.phys != d.l.phys[c] || string(ch.path) != d.l.names[c] ||
		ch.numValues != int64(len(rows)) || ch.offset < 4 || ch.offset > int64(len(d.data)) ||
		ch.size < 0 || ch.size > int64(len(d.data))-ch.offset {
		return false
	}
	if ch.codec != codecNone && ch.codec != codecZstd {
		return false
	}
	b := d.data[ch.offset : ch.offset+ch.size]
	at := d.l.pos[c]
	for len(rows) > 0 {
		t := thriftReader{b: b}
		var h pageHeader
		if !t.pageHeader(&h) || h.typ != pageData || h.numValues <= 0 || h.numValues > int64(len(rows)) ||
			h.encoding != encPlain || h.compressed < 0 || h.compressed > int64(len(b)-t.i) {
			return false
		}
		page := b[t.i : t.i+int(h.compressed)]
		b = b[t.i+int(h.compressed):]
		if h.hasCRC && crc32.ChecksumIEEE(page) != h.crc {
			return false
		}
		if ch.codec == codecZstd {
			var err error
			if d.buf, err = codec.Decode(d.buf[:0], page); err != nil {
				return false
			}
			page = d.buf
		}
		if int64(len(page)) != h.uncompressed {
			return false
		}
		n := int(h.numValues)
		defs, page, ok := d.levels(c, h, page, n)
		if !ok || !plainValues(d.l.kinds[c], page, defs, rows[:n], at) {
			return false
		}
		rows = rows[n:]
	}
	return len(b) == 0
}

// levels returns the definition levels of the n values of a page of file
// column c (nil when the column is required: no value is NULL), and the rest
// of the page.
func (d *pageDecoder) levels(c int, h pageHeader, page []byte, n int) ([]byte, []byte, bool) {
	if !d.l.optional[c] {
		return nil, page, true
	}
	if h.defEncoding != encRLE || len(page) < 4 {
		return nil, nil, false
	}
	size := int(binary.LittleEndian.Uint32(page))
	if size > len(page)-4 {
		return nil, nil, false
	}
	d.defs = d.defs[:0]
	if !rleBits(page[4:4+size], n, &d.defs) {
		return nil, nil, false
	}
	return d.defs, page[4+size:], true
}

// rleBits decodes n levels of bit width 1 from the RLE/bit-packed hybrid
// encoding in b, appending them to out.
func rleBits(b []byte, n int, out *[]byte) bool {
	t := thriftReader{b: b}
	for len(*out) < n {
		h := t.uvarint()
		switch {
		case t.failed:
			return false
		case h&1 == 0: // a run of one value, in one byte
			v := t.byte()
			run := h >> 1
			if t.failed || v > 1 || run == 0 || run > uint64(n-len(*out)) {
				return false
			}
			for range run {
				*out = append(*out, v)
			}
		default: // groups of 8 bit-packed values, a byte each
			groups := h >> 1
			if groups == 0 || groups > uint64(len(t.b)-t.i) {
				return false
			}
			for _, g := range t.b[t.i : t.i+int(groups)] {
				for k := 0; k < 8 && len(*out) < n; k++ {
					*out = append(*out, g>>k&1)
				}
			}
			t.i += int(groups)
		}
	}
	return true
}

// plainValues decodes the PLAIN values of kind k in b into column at of rows,
// leaving NULL where defs says so.
func plainValues(k Kind, b []byte, defs []byte, rows [][]any, at int) bool {
	bit := 0 // of the next boolean
	for i, row := range rows {
		if defs != nil && defs[i] == 0 {
			row[at] = nil
			continue
		}
		switch k {
		case Int64, Double, Timestamp:
			if len(b) < 8 {
				return false
			}
			v := binary.LittleEndian.Uint64(b)
			b = b[8:]
			switch k {
			case Int64:
				row[at] = int64(v)
			case Double:
				row[at] = math.Float64frombits(v)
			default:
				row[at] = goTime(int64(v))
			}
		case String:
			if len(b) < 4 {
				return false
			}
			n := binary.LittleEndian.Uint32(b)
			if uint64(n) > uint64(len(b)-4) {
				return false
			}
			row[at] = string(b[4 : 4+n])
			b = b[4+n:]
		case Bool:
			if bit/8 >= len(b) {
				return false
			}
			row[at] = b[bit/8]>>(bit%8)&1 == 1
			bit++
		}
	}
	return true
}
