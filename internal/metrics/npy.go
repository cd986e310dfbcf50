package metrics

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strings"

	"codeberg.org/sbinet/npyio/npy"
)

// ReadNPY reads a 2-D NumPy array from a .npy file: float32 and float64
// arrays become an Image, complex64 and complex128 arrays a ComplexImage,
// in C or Fortran order and either byte order. Other dtypes, other numbers
// of dimensions, empty arrays and truncated or malformed files are errors.
func ReadNPY(path string) (any, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read npy: %w", err) // the error names the path
	}
	v, err := decodeNPY(data)
	if err != nil {
		return nil, fmt.Errorf("read npy %s: %w", path, err)
	}
	return v, nil
}

// npyMagic starts every .npy file.
const npyMagic = "\x93NUMPY"

// elemSizes are the byte sizes of the supported dtype codes.
var elemSizes = map[string]int{"f4": 4, "f8": 8, "c8": 8, "c16": 16}

// decodeNPY decodes the bytes of a .npy file.
func decodeNPY(data []byte) (_ any, err error) {
	if err := checkPreamble(data); err != nil {
		return nil, err
	}
	// npyio indexes the header without bounds checks and panics on some
	// malformed headers: report those as errors.
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("malformed npy header: %v", p)
		}
	}()
	rd := bytes.NewReader(data)
	r, err := npy.NewReader(rd)
	if err != nil {
		return nil, fmt.Errorf("npy header: %w", err)
	}
	descr := r.Header.Descr
	code, err := dtypeCode(descr.Type)
	if err != nil {
		return nil, err
	}
	if len(descr.Shape) != 2 {
		return nil, fmt.Errorf("array has shape %v: want a 2-D array", descr.Shape)
	}
	rows, cols := descr.Shape[0], descr.Shape[1]
	if rows <= 0 || cols <= 0 {
		return nil, fmt.Errorf("array has shape %v: want a non-empty 2-D array", descr.Shape)
	}
	size := elemSizes[code]
	if rows > rd.Len()/size/cols {
		return nil, fmt.Errorf("truncated data: shape %v of %s needs more than the %d bytes present", descr.Shape, code, rd.Len())
	}
	n := rows * cols
	switch code {
	case "f4":
		buf := make([]float32, n)
		if err := r.Read(&buf); err != nil {
			return nil, fmt.Errorf("npy data: %w", err)
		}
		out := make([]float64, n)
		for i, v := range buf {
			out[i] = float64(v)
		}
		return Image{rows, cols, toRowMajor(out, rows, cols, descr.Fortran)}, nil
	case "f8":
		buf := make([]float64, n)
		if err := r.Read(&buf); err != nil {
			return nil, fmt.Errorf("npy data: %w", err)
		}
		return Image{rows, cols, toRowMajor(buf, rows, cols, descr.Fortran)}, nil
	case "c8":
		buf := make([]complex64, n)
		if err := r.Read(&buf); err != nil {
			return nil, fmt.Errorf("npy data: %w", err)
		}
		out := make([]complex128, n)
		for i, v := range buf {
			out[i] = complex128(v)
		}
		return ComplexImage{rows, cols, toRowMajor(out, rows, cols, descr.Fortran)}, nil
	default: // "c16"
		buf := make([]complex128, n)
		if err := r.Read(&buf); err != nil {
			return nil, fmt.Errorf("npy data: %w", err)
		}
		return ComplexImage{rows, cols, toRowMajor(buf, rows, cols, descr.Fortran)}, nil
	}
}

// checkPreamble validates the magic string, version and header length
// before npyio allocates the header.
func checkPreamble(data []byte) error {
	if len(data) < 10 || string(data[:6]) != npyMagic {
		return errors.New("not a .npy file (bad magic)")
	}
	var hdrLen, start int
	switch data[6] {
	case 1:
		hdrLen, start = int(binary.LittleEndian.Uint16(data[8:10])), 10
	case 2:
		if len(data) < 12 {
			return errors.New("truncated .npy header")
		}
		hdrLen, start = int(binary.LittleEndian.Uint32(data[8:12])), 12
	default:
		return fmt.Errorf("unsupported .npy format version %d.%d", data[6], data[7])
	}
	if hdrLen > len(data)-start {
		return fmt.Errorf("truncated .npy header (%d bytes announced, %d present)", hdrLen, len(data)-start)
	}
	if !bytes.Contains(data[start:start+hdrLen], []byte("\n")) {
		return errors.New("malformed .npy header (no terminating newline)")
	}
	return nil
}

// dtypeCode returns "f4", "f8", "c8" or "c16" for a supported dtype
// description such as '<f8', or an error naming the dtype.
func dtypeCode(typ string) (string, error) {
	t := strings.Trim(typ, "'\"")
	if len(t) > 1 && strings.ContainsRune("<>=|", rune(t[0])) {
		t = t[1:]
	}
	if _, ok := elemSizes[t]; !ok {
		return "", fmt.Errorf("unsupported dtype %s: want float32, float64, complex64 or complex128", typ)
	}
	return t, nil
}

// toRowMajor returns data (rows×cols, column-major when fortran) in
// row-major order.
func toRowMajor[T any](data []T, rows, cols int, fortran bool) []T {
	if !fortran {
		return data
	}
	out := make([]T, len(data))
	for j := range cols {
		for i := range rows {
			out[i*cols+j] = data[j*rows+i]
		}
	}
	return out
}
