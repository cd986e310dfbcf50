package study

import (
	"fmt"
	"math"
	"strconv"
)

// maxRangeValues bounds one range so that a typo (step = 1e-9) is an error
// rather than an out-of-memory plan.
const maxRangeValues = 100000

// expandRange turns a range table into values. Linear ranges need num or
// step; log and log2 ranges step by one decade or one doubling unless num
// or step (in exponent units) says otherwise. Stop is included when the
// steps land on it.
func expandRange(r *rangeFile) ([]Value, string, error) {
	scale := r.Scale
	if scale == "" {
		scale = "linear"
	}
	if scale != "linear" && scale != "log" && scale != "log2" {
		return nil, "", fmt.Errorf("scale %q: want \"linear\", \"log\" or \"log2\"", scale)
	}
	start, startInt, err := rangeNumber("start", r.Start)
	if err != nil {
		return nil, "", err
	}
	stop, stopInt, err := rangeNumber("stop", r.Stop)
	if err != nil {
		return nil, "", err
	}
	if stop < start {
		return nil, "", fmt.Errorf("stop %s is below start %s", FormatFloat(stop), FormatFloat(start))
	}
	if r.Num != nil && r.Step != nil {
		return nil, "", fmt.Errorf("give num or step, not both")
	}
	allInt := startInt && stopInt
	var step float64
	if r.Step != nil {
		var stepInt bool
		step, stepInt, err = rangeNumber("step", r.Step)
		if err != nil {
			return nil, "", err
		}
		if step <= 0 {
			return nil, "", fmt.Errorf("step %s must be positive", FormatFloat(step))
		}
		allInt = allInt && stepInt
	}
	if r.Num != nil && *r.Num < 1 {
		return nil, "", fmt.Errorf("num %d must be at least 1", *r.Num)
	}

	// Work in exponent space for log scales.
	lo, hi := start, stop
	base := 1.0
	switch scale {
	case "log", "log2":
		if start <= 0 || stop <= 0 {
			return nil, "", fmt.Errorf("a %s range must stay above zero (start %s, stop %s)", scale, FormatFloat(start), FormatFloat(stop))
		}
		base = 10
		if scale == "log2" {
			base = 2
		}
		lo, hi = math.Log(start)/math.Log(base), math.Log(stop)/math.Log(base)
		if r.Num == nil && r.Step == nil {
			step = 1
		}
	default:
		if r.Num == nil && r.Step == nil {
			return nil, "", fmt.Errorf("a linear range needs num or step")
		}
	}

	var xs []float64
	switch {
	case r.Num != nil:
		n := int(*r.Num)
		if n > maxRangeValues {
			return nil, "", fmt.Errorf("num %d is more than %d values", n, maxRangeValues)
		}
		if n == 1 {
			xs = []float64{lo}
		} else {
			for i := 0; i < n; i++ {
				xs = append(xs, lo+(hi-lo)*float64(i)/float64(n-1))
			}
		}
	default:
		count := math.Floor((hi-lo)/step+1e-9) + 1
		if count > maxRangeValues {
			return nil, "", fmt.Errorf("step %s gives more than %d values", FormatFloat(step), maxRangeValues)
		}
		for i := 0; i < int(count); i++ {
			xs = append(xs, lo+step*float64(i))
		}
	}

	vals := make([]Value, len(xs))
	for i, x := range xs {
		if base != 1 {
			x = math.Pow(base, x)
		}
		x = tidy(x)
		if allInt && x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			vals[i] = Value{Kind: Int, I: int64(x)}
		} else {
			vals[i] = Value{Kind: Float, F: x}
		}
	}
	_, vals, err = unify(vals)
	if err != nil {
		return nil, "", err
	}
	return vals, scale, nil
}

// tidy rounds away the last bits of floating-point noise (10^2 computed as
// 99.99999999999997) so values print and hash as the user expects.
func tidy(x float64) float64 {
	y, err := strconv.ParseFloat(strconv.FormatFloat(x, 'g', 12, 64), 64)
	if err != nil {
		return x
	}
	return y
}

func rangeNumber(key string, x any) (float64, bool, error) {
	switch t := x.(type) {
	case int64:
		return float64(t), true, nil
	case float64:
		if math.IsNaN(t) || math.IsInf(t, 0) {
			return 0, false, fmt.Errorf("%s must be a finite number", key)
		}
		return t, false, nil
	case nil:
		return 0, false, fmt.Errorf("%s is missing", key)
	}
	return 0, false, fmt.Errorf("%s must be a number, not %v", key, x)
}
