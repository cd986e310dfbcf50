package metrics

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// readerValue is the value at (i, j) of the 3×4 reader_* fixtures.
func readerValue(i, j int) complex128 {
	k := float64(i*4 + j)
	return complex(k/8, k/4)
}

func TestReadNPY(t *testing.T) {
	for _, tc := range []struct {
		file    string
		complex bool
	}{
		{"reader_c8.npy", true},
		{"reader_c16_fortran.npy", true},
		{"reader_f8_big.npy", false},
		{"reader_f4_fortran.npy", false},
	} {
		v, err := ReadNPY(filepath.Join("testdata", tc.file))
		if err != nil {
			t.Errorf("ReadNPY(%q) error %v", tc.file, err)
			continue
		}
		var rows, cols int
		at := func(int, int) complex128 { return 0 }
		switch img := v.(type) {
		case Image:
			rows, cols = img.Rows, img.Cols
			at = func(i, j int) complex128 { return complex(img.At(i, j), 0) }
		case ComplexImage:
			rows, cols = img.Rows, img.Cols
			at = func(i, j int) complex128 { return img.Data[i*img.Cols+j] }
		}
		if _, isComplex := v.(ComplexImage); isComplex != tc.complex || rows != 3 || cols != 4 {
			t.Errorf("ReadNPY(%q) = %T %dx%d, want complex=%v 3x4", tc.file, v, rows, cols, tc.complex)
			continue
		}
		for i := range rows {
			for j := range cols {
				want := readerValue(i, j)
				if !tc.complex {
					want = complex(real(want), 0)
				}
				if got := at(i, j); got != want {
					t.Errorf("ReadNPY(%q)[%d,%d] = %v, want %v", tc.file, i, j, got, want)
				}
			}
		}
	}
}

func TestReadNPYErrors(t *testing.T) {
	good, err := os.ReadFile(filepath.Join("testdata", "u32_truth.npy"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	headerOnly := good[:128] // the 10-byte preamble and its 118-byte header
	for _, tc := range []struct {
		name, path, want string
	}{
		{"int32", filepath.Join("testdata", "bad_int32.npy"), "unsupported dtype '<i4'"},
		{"3-D", filepath.Join("testdata", "bad_3d.npy"), "want a 2-D array"},
		{"1-D", filepath.Join("testdata", "bad_1d.npy"), "want a 2-D array"},
		{"missing", filepath.Join(dir, "nope.npy"), "no such file"},
		{"not npy", write("text.npy", []byte("hello, world")), "bad magic"},
		{"truncated data", write("short.npy", good[:len(good)-8]), "truncated data"},
		{"header only", write("header.npy", headerOnly), "truncated data"},
		{"truncated header", write("hdr.npy", good[:40]), "truncated .npy header"},
		{"version", write("v9.npy", append([]byte("\x93NUMPY\x09\x00"), good[8:]...)), "unsupported .npy format version"},
		{"garbled header", write("garbled.npy", append(append([]byte{}, good[:10]...), []byte(strings.Repeat("}", 117)+"\n")...)), "invalid dictionary format"},
		// npyio panics on a header without its closing brace.
		{"unclosed header", write("unclosed.npy", []byte(strings.Replace(string(good), "}", " ", 1))), "malformed npy header"},
	} {
		_, err := ReadNPY(tc.path)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "read npy") ||
			strings.Count(err.Error(), tc.path) != 1 {
			t.Errorf("ReadNPY(%q) error = %v, want it to name the file once and say %q", tc.name, err, tc.want)
		}
	}
}

// FuzzReadNPY checks that no input makes the reader panic and that what it
// accepts is a consistent image.
func FuzzReadNPY(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.npy"))
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		if len(data) > 4096 { // keep the seeds small: the header is what matters
			data = data[:4096]
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := decodeNPY(data)
		if err != nil {
			return
		}
		switch img := v.(type) {
		case Image:
			if img.Rows <= 0 || img.Cols <= 0 || len(img.Data) != img.Rows*img.Cols {
				t.Errorf("decodeNPY(%q) = inconsistent %dx%d image with %d values", data, img.Rows, img.Cols, len(img.Data))
			}
		case ComplexImage:
			if img.Rows <= 0 || img.Cols <= 0 || len(img.Data) != img.Rows*img.Cols {
				t.Errorf("decodeNPY(%q) = inconsistent %dx%d image with %d values", data, img.Rows, img.Cols, len(img.Data))
			}
		default:
			t.Errorf("decodeNPY(%q) = %T, want Image or ComplexImage", data, v)
		}
	})
}
