// Package table reads and writes flat, typed Parquet tables: the manifest, the
// run and history shards, and the merged result tables of a study.
//
// A table is a list of nullable columns of five kinds. Rows are positional
// []any values in the caller's column order. The package hides the parts of
// parquet-go that bite code written the obvious way: zero values stored as
// NULL, panics on wrongly typed values, columns reordered by name, and files
// left without a footer by a killed writer.
package table

import (
	"errors"
	"fmt"

	"github.com/parquet-go/parquet-go"
)

// Kind is the type of a column's values.
type Kind int

// The kinds of column. The zero Kind is invalid, so that a Column whose Kind
// was forgotten is caught by NewWriter rather than written as some default.
const (
	// Int64 columns hold int64 values (Parquet INT64).
	Int64 Kind = iota + 1
	// Double columns hold float64 values, NaN and infinities included
	// (Parquet DOUBLE).
	Double
	// String columns hold UTF-8 strings (Parquet BYTE_ARRAY, STRING).
	String
	// Bool columns hold bool values (Parquet BOOLEAN).
	Bool
	// Timestamp columns hold time.Time values, stored as microseconds since
	// the Unix epoch in UTC (Parquet INT64, TIMESTAMP(MICROS, UTC)).
	Timestamp
)

var kindNames = [...]string{
	Int64:     "int64",
	Double:    "double",
	String:    "string",
	Bool:      "bool",
	Timestamp: "timestamp",
}

// String returns the kind's lower-case name, as used in error messages.
func (k Kind) String() string {
	if k.valid() {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

func (k Kind) valid() bool { return k >= Int64 && k <= Timestamp }

// node is the Parquet schema node of an optional column of kind k.
func (k Kind) node() parquet.Node {
	var n parquet.Node
	switch k {
	case Int64:
		n = parquet.Int(64)
	case Double:
		n = parquet.Leaf(parquet.DoubleType)
	case String:
		n = parquet.String()
	case Bool:
		n = parquet.Leaf(parquet.BooleanType)
	case Timestamp:
		n = parquet.Timestamp(parquet.Microsecond)
	}
	return parquet.Optional(n)
}

// Column is one named, typed column. Every column is nullable: nil in a row
// is written as NULL.
type Column struct {
	Name string
	Kind Kind
}

// Schema is the list of a table's columns, in the order that rows give their
// values and that files store them in. The order is also kept in the file's
// metadata, for files of older versions that stored the columns sorted by
// name; Open restores it.
type Schema []Column

// Index returns the position of the column called name, or -1.
func (s Schema) Index(name string) int {
	for i, c := range s {
		if c.Name == name {
			return i
		}
	}
	return -1
}

// Check reports every column that s and other both have under one name but
// with different kinds. Columns present in only one of them are fine: tables
// of one study grow columns (a new metric), but a column must never change
// type, because merging INT64 into DOUBLE corrupts values silently.
func (s Schema) Check(other Schema) error {
	var errs []error
	for _, c := range s {
		if i := other.Index(c.Name); i >= 0 && other[i].Kind != c.Kind {
			errs = append(errs, fmt.Errorf("column %q is %s here and %s there", c.Name, c.Kind, other[i].Kind))
		}
	}
	return errors.Join(errs...)
}

// validate reports an empty, duplicated or untyped column.
func (s Schema) validate() error {
	if len(s) == 0 {
		return errors.New("table has no columns")
	}
	seen := make(map[string]bool, len(s))
	for i, c := range s {
		switch {
		case c.Name == "":
			return fmt.Errorf("column %d has no name", i)
		case seen[c.Name]:
			return fmt.Errorf("column %q appears twice", c.Name)
		case !c.Kind.valid():
			return fmt.Errorf("column %q: invalid kind %s", c.Name, c.Kind)
		}
		seen[c.Name] = true
	}
	return nil
}

// parquetSchema builds the Parquet schema of s, its columns in the order of
// s. The second result maps each position of s to its leaf column index in
// the file.
func (s Schema) parquetSchema() (*parquet.Schema, []int) {
	nodes := make(map[string]parquet.Node, len(s))
	for _, c := range s {
		nodes[c.Name] = c.Kind.node()
	}
	ps := parquet.NewSchema("gridstudy", newOrderedGroup(names(s), nodes))
	leaf := make([]int, len(s))
	for i, c := range s {
		col, _ := ps.Lookup(c.Name)
		leaf[i] = col.ColumnIndex
	}
	return ps, leaf
}
