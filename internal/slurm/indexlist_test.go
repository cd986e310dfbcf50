package slurm

import (
	"reflect"
	"testing"
)

func TestFormatIndexList(t *testing.T) {
	tests := []struct {
		in   []int
		want string
	}{
		{nil, ""},
		{[]int{3}, "3"},
		{[]int{0, 1, 2, 3}, "0-3"},
		{[]int{7, 3, 12, 13, 14, 15, 3}, "3,7,12-15"},
		{[]int{1, 3, 5}, "1,3,5"},
	}
	for _, tt := range tests {
		if got := FormatIndexList(tt.in); got != tt.want {
			t.Errorf("FormatIndexList(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseIndexList(t *testing.T) {
	tests := []struct {
		in      string
		want    []int
		wantErr bool
	}{
		{"0-3", []int{0, 1, 2, 3}, false},
		{"3,7,12-15%4", []int{3, 7, 12, 13, 14, 15}, false},
		{"0-10:5", []int{0, 5, 10}, false},
		{"5,5,1", []int{1, 5}, false},
		{"", nil, true},
		{"3-1", nil, true},
		{"a", nil, true},
		{"-1", nil, true},
		{"0-5:0", nil, true},
		{"0-999999999", nil, true},
	}
	for _, tt := range tests {
		got, err := ParseIndexList(tt.in)
		if (err != nil) != tt.wantErr || !tt.wantErr && !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseIndexList(%q) = %v, %v, want %v (error %v)", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func FuzzParseIndexList(f *testing.F) {
	for _, s := range []string{"0-3", "3,7,12-15%4", "0-10:5", "1", ",", "9-"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ids, err := ParseIndexList(s)
		if err != nil {
			return
		}
		// Formatting and parsing again gives the same ids.
		again, err := ParseIndexList(FormatIndexList(ids))
		if err != nil || !reflect.DeepEqual(again, ids) {
			t.Fatalf("round trip of %q: %v, %v; want %v", s, again, err, ids)
		}
	})
}

func TestParseLimits(t *testing.T) {
	out := []byte("MaxArraySize            = 20\nSchedulerParameters     = bf_busy_nodes,max_array_tasks=10\nMinJobAge = 300\n")
	if got := parseLimits(out); got != (Limits{MaxArraySize: 20, MaxArrayTasks: 10}) {
		t.Errorf("parseLimits = %+v, want 20 and 10", got)
	}
	if got := parseLimits(nil); got.MaxArraySize != DefaultMaxArraySize {
		t.Errorf("parseLimits(nil) = %+v, want the default", got)
	}
}
