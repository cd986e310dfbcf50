package table

import "github.com/parquet-go/parquet-go"

// orderedGroup is a parquet.Group whose fields come in the order given
// rather than sorted by name, so that a file's columns appear in DuckDB,
// pyarrow and pandas in the order of its Schema. Only Fields differs from
// the Group: the Writer hands parquet-go column values, never Go structs,
// so nothing reads the Group's Go type, which keeps the sorted order.
type orderedGroup struct {
	parquet.Group
	fields []parquet.Field
}

// newOrderedGroup returns the group of the named nodes, in names' order.
func newOrderedGroup(names []string, nodes map[string]parquet.Node) orderedGroup {
	g := orderedGroup{Group: parquet.Group(nodes)}
	byName := make(map[string]parquet.Field, len(nodes))
	for _, f := range g.Group.Fields() {
		byName[f.Name()] = f
	}
	for _, n := range names {
		g.fields = append(g.fields, byName[n])
	}
	return g
}

// Fields returns the group's fields in the order they were given.
func (g orderedGroup) Fields() []parquet.Field { return g.fields }
