package table

import "encoding/binary"

// thriftReader reads the Thrift compact protocol encoding of the few Parquet
// structures that decodeSmall needs, skipping every other field. Reads past
// the end, or anything malformed, set failed and return zero values.
type thriftReader struct {
	b      []byte
	i      int
	failed bool
}

// Compact protocol types.
const (
	tStop   = 0
	tTrue   = 1
	tFalse  = 2
	tByte   = 3
	tI16    = 4
	tI32    = 5
	tI64    = 6
	tDouble = 7
	tBinary = 8
	tList   = 9
	tSet    = 10
	tMap    = 11
	tStruct = 12
)

// LogicalType union fields (parquet.thrift).
const (
	logicalString    = 1
	logicalTimestamp = 8
	logicalInteger   = 10
)

// maxDepth bounds the nesting of skipped values.
const maxDepth = 16

func (t *thriftReader) byte() byte {
	if t.i >= len(t.b) {
		t.failed = true
		return 0
	}
	t.i++
	return t.b[t.i-1]
}

func (t *thriftReader) uvarint() uint64 {
	if t.i > len(t.b) {
		t.failed = true
		return 0
	}
	v, n := binary.Uvarint(t.b[t.i:])
	if n <= 0 {
		t.failed = true
		return 0
	}
	t.i += n
	return v
}

// int returns a zigzag-encoded integer (i16, i32 or i64).
func (t *thriftReader) int() int64 {
	v := t.uvarint()
	return int64(v>>1) ^ -int64(v&1)
}

func (t *thriftReader) binary() []byte {
	n := t.uvarint()
	if t.failed || n > uint64(len(t.b)-t.i) {
		t.failed = true
		return nil
	}
	t.i += int(n)
	return t.b[t.i-int(n) : t.i]
}

// field reads the header of the next field of a struct whose previous field
// was *id, and returns its type; tStop at the end of the struct.
func (t *thriftReader) field(id *int16) byte {
	h := t.byte()
	typ := h & 0x0f
	if t.failed || typ == tStop {
		return tStop
	}
	if d := h >> 4; d != 0 {
		*id += int16(d)
	} else {
		*id = int16(t.int())
	}
	return typ
}

// listHeader reads the header of a list or set: its size and element type.
func (t *thriftReader) listHeader() (int, byte) {
	h := t.byte()
	n := uint64(h >> 4)
	if n == 15 {
		n = t.uvarint()
	}
	// Every element takes at least a byte.
	if t.failed || n > uint64(len(t.b)-t.i) {
		t.failed = true
		return 0, 0
	}
	return int(n), h & 0x0f
}

// skip skips a value of type typ.
func (t *thriftReader) skip(typ byte, depth int) {
	if depth > maxDepth {
		t.failed = true
		return
	}
	switch typ {
	case tTrue, tFalse:
	case tByte:
		t.byte()
	case tI16, tI32, tI64:
		t.uvarint()
	case tDouble:
		if len(t.b)-t.i < 8 {
			t.failed = true
			return
		}
		t.i += 8
	case tBinary:
		t.binary()
	case tList, tSet:
		n, elem := t.listHeader()
		for range n {
			if elem == tTrue || elem == tFalse {
				t.byte() // booleans in lists take a byte each
			} else {
				t.skip(elem, depth+1)
			}
			if t.failed {
				return
			}
		}
	case tMap:
		n := t.uvarint()
		if t.failed || n > uint64(len(t.b)-t.i) {
			t.failed = true
			return
		}
		if n > 0 {
			kv := t.byte()
			for range n {
				t.skip(kv>>4, depth+1)
				t.skip(kv&0x0f, depth+1)
				if t.failed {
					return
				}
			}
		}
	case tStruct:
		var id int16
		for typ := t.field(&id); typ != tStop; typ = t.field(&id) {
			t.skip(typ, depth+1)
		}
	default:
		t.failed = true
	}
}

// each calls fn for each element of a list of structs; fn reads the element.
func (t *thriftReader) each(typ byte, fn func() bool) bool {
	if typ != tList {
		return false
	}
	n, elem := t.listHeader()
	if t.failed || elem != tStruct {
		return false
	}
	for range n {
		if !fn() || t.failed {
			return false
		}
	}
	return true
}

// fields returns the set of ids, as bits, that a struct must have.
func fields(ids ...int16) uint64 {
	var m uint64
	for _, id := range ids {
		m |= 1 << id
	}
	return m
}

// The fields that parquet.thrift requires (and parquet-go checks) in the
// structures that decodeSmall reads.
var (
	fileMetaDataFields   = fields(1, 2, 3, 4)
	rowGroupFields       = fields(1, 2, 3)
	columnChunkFields    = fields(2)
	columnMetaDataFields = fields(1, 2, 3, 4, 5, 6, 7, 9)
	keyValueFields       = fields(1)
	schemaElementFields  = fields(4)
)

// fileMetaData reads a FileMetaData into f.
func (t *thriftReader) fileMetaData(f *footer) bool {
	var id int16
	var seen uint64
	for typ := t.field(&id); typ != tStop; typ = t.field(&id) {
		switch {
		case id == 1 && typ == tI32: // version
			t.int()
		case id == 2 && typ == tList: // schema
			start := t.i
			t.skip(typ, 0)
			f.schema = t.b[start:t.i]
		case id == 3 && typ == tI64: // num_rows
			f.numRows = t.int()
		case id == 4: // row_groups
			ok := t.each(typ, func() bool {
				f.groups = append(f.groups, rowGroup{})
				return t.rowGroup(&f.groups[len(f.groups)-1])
			})
			if !ok {
				return false
			}
		case id == 5: // key_value_metadata
			ok := t.each(typ, func() bool {
				key, value, ok := t.keyValue()
				if ok && string(key) == orderKey {
					f.order, f.hasOrder = value, true
				}
				return ok
			})
			if !ok {
				return false
			}
		default:
			t.skip(typ, 0)
			continue
		}
		seen |= 1 << id
	}
	return !t.failed && seen&fileMetaDataFields == fileMetaDataFields && t.i == len(t.b)
}

func (t *thriftReader) keyValue() (key, value []byte, ok bool) {
	var id int16
	var seen uint64
	for typ := t.field(&id); typ != tStop; typ = t.field(&id) {
		switch {
		case id == 1 && typ == tBinary:
			key = t.binary()
		case id == 2 && typ == tBinary:
			value = t.binary()
		default:
			t.skip(typ, 0)
			continue
		}
		seen |= 1 << id
	}
	return key, value, !t.failed && seen&keyValueFields == keyValueFields
}

func (t *thriftReader) rowGroup(g *rowGroup) bool {
	var id int16
	var seen uint64
	for typ := t.field(&id); typ != tStop; typ = t.field(&id) {
		switch {
		case id == 1: // columns
			ok := t.each(typ, func() bool {
				g.chunks = append(g.chunks, chunk{})
				return t.columnChunk(&g.chunks[len(g.chunks)-1])
			})
			if !ok {
				return false
			}
		case id == 2 && typ == tI64: // total_byte_size
			t.int()
		case id == 3 && typ == tI64:
			g.numRows = t.int()
		default:
			t.skip(typ, 0)
			continue
		}
		seen |= 1 << id
	}
	return !t.failed && seen&rowGroupFields == rowGroupFields
}

func (t *thriftReader) columnChunk(c *chunk) bool {
	var id int16
	var seen uint64
	meta := false
	for typ := t.field(&id); typ != tStop; typ = t.field(&id) {
		switch {
		case id == 1: // file_path
			c.external = true
			t.skip(typ, 0)
		case id == 2 && typ == tI64: // file_offset
			t.int()
		case id == 3 && typ == tStruct:
			meta = t.columnMetaData(c)
		default:
			t.skip(typ, 0)
			continue
		}
		seen |= 1 << id
	}
	return meta && !t.failed && seen&columnChunkFields == columnChunkFields
}

func (t *thriftReader) columnMetaData(c *chunk) bool {
	var id int16
	var seen uint64
	dict := int64(-1)
	for typ := t.field(&id); typ != tStop; typ = t.field(&id) {
		switch {
		case id == 1 && typ == tI32:
			c.phys = t.int()
		case id == 2 && typ == tList: // encodings
			t.skip(typ, 0)
		case id == 3 && typ == tList: // path_in_schema
			n, elem := t.listHeader()
			if n != 1 || elem != tBinary {
				return false
			}
			c.path = t.binary()
		case id == 4 && typ == tI32:
			c.codec = t.int()
		case id == 5 && typ == tI64:
			c.numValues = t.int()
		case id == 6 && typ == tI64: // total_uncompressed_size
			t.int()
		case id == 7 && typ == tI64:
			c.size = t.int()
		case id == 9 && typ == tI64:
			c.offset = t.int()
		case id == 11 && typ == tI64:
			dict = t.int()
		default:
			t.skip(typ, 0)
			continue
		}
		seen |= 1 << id
	}
	// A dictionary page comes first; decodeSmall declines it when it sees
	// it, rather than trust a data page offset that skips it.
	if dict > 0 && dict < c.offset {
		c.offset = dict
	}
	return !t.failed && seen&columnMetaDataFields == columnMetaDataFields
}

// schemaElement reads a SchemaElement into e.
func (t *thriftReader) schemaElement(e *schemaElement) bool {
	var id int16
	var seen uint64
	for typ := t.field(&id); typ != tStop; typ = t.field(&id) {
		switch {
		case id == 1 && typ == tI32:
			e.phys, e.hasPhys = t.int(), true
		case id == 3 && typ == tI32:
			e.repetition, e.hasRepetition = t.int(), true
		case id == 4 && typ == tBinary:
			e.name = t.binary()
		case id == 5 && typ == tI32:
			e.numChildren = t.int()
		case id == 6 && typ == tI32:
			t.int()
			e.hasConverted = true
		case id == 10 && typ == tStruct:
			t.logicalType(e)
		default:
			t.skip(typ, 0)
			continue
		}
		seen |= 1 << id
	}
	return !t.failed && seen&schemaElementFields == schemaElementFields
}

// logicalType reads the LogicalType union into e. A union field of
// unexpected type leaves e.logical at -1: no kind.
func (t *thriftReader) logicalType(e *schemaElement) {
	var id int16
	for typ := t.field(&id); typ != tStop; typ = t.field(&id) {
		if typ != tStruct {
			e.logical = -1
			t.skip(typ, 0)
			continue
		}
		e.logical = id
		var sub int16
		for st := t.field(&sub); st != tStop; st = t.field(&sub) {
			switch {
			case id == logicalInteger && sub == 1 && st == tByte:
				e.bitWidth = int64(int8(t.byte()))
			case id == logicalInteger && sub == 2 && (st == tTrue || st == tFalse):
				e.signed = st == tTrue
			case id == logicalTimestamp && sub == 2 && st == tStruct: // unit
				var u int16
				for ut := t.field(&u); ut != tStop; ut = t.field(&u) {
					e.micros = u == 2 // MICROS
					t.skip(ut, 0)
				}
			default:
				t.skip(st, 0)
			}
		}
	}
}

// pageHeader is what decodeSmall reads of a PageHeader.
type pageHeader struct {
	typ, uncompressed, compressed int64
	numValues, encoding           int64
	defEncoding                   int64
	crc                           uint32
	hasCRC                        bool
}

// pageHeader reads a PageHeader into h. It fails without the fields that
// parquet.thrift requires, as parquet-go does.
func (t *thriftReader) pageHeader(h *pageHeader) bool {
	var id int16
	var seen, dataSeen uint
	for typ := t.field(&id); typ != tStop; typ = t.field(&id) {
		switch {
		case id == 1 && typ == tI32:
			h.typ = t.int()
		case id == 2 && typ == tI32:
			h.uncompressed = t.int()
		case id == 3 && typ == tI32:
			h.compressed = t.int()
		case id == 4 && typ == tI32:
			h.crc, h.hasCRC = uint32(t.int()), true
			continue
		case id == 5 && typ == tStruct: // data_page_header
			var sub int16
			for st := t.field(&sub); st != tStop; st = t.field(&sub) {
				switch {
				case sub == 1 && st == tI32:
					h.numValues = t.int()
				case sub == 2 && st == tI32:
					h.encoding = t.int()
				case sub == 3 && st == tI32:
					h.defEncoding = t.int()
				case sub == 4 && st == tI32:
					t.int()
				default:
					t.skip(st, 0)
					continue
				}
				dataSeen |= 1 << sub
			}
		default:
			t.skip(typ, 0)
			continue
		}
		seen |= 1 << id
	}
	return !t.failed && seen == 1<<1|1<<2|1<<3|1<<5 && dataSeen == 1<<1|1<<2|1<<3|1<<4
}
