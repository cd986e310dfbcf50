package plots

import (
	"math"
	"math/rand/v2"
	"strconv"
)

// synthStudy is a realistic synthetic study: nphotons 1e2..1e6 (log) ×
// n_images 256..4096 (log2) × tv_weight (5 levels, pinn only), models pinn
// and baseline, metrics psnr, ms_ssim (maximised), mae, wall_s (minimised).
// PSNR rises with dose and data and peaks at tv_weight 1e-3; a few cells
// failed and one was never run.
func synthStudy() Data {
	r := rand.New(rand.NewPCG(1, 2))
	d := Data{
		Params: []Param{
			{Name: "nphotons", Labels: []string{"1e2", "1e3", "1e4", "1e5", "1e6"}, Numeric: []float64{1e2, 1e3, 1e4, 1e5, 1e6}, Scale: ScaleLog},
			{Name: "n_images", Labels: []string{"256", "512", "1024", "2048", "4096"}, Numeric: []float64{256, 512, 1024, 2048, 4096}, Scale: ScaleLog2},
			{Name: "tv_weight", Labels: []string{"1e-5", "1e-4", "1e-3", "1e-2", "1e-1"}, Numeric: []float64{1e-5, 1e-4, 1e-3, 1e-2, 1e-1}, Scale: ScaleLog},
		},
		Models:  []string{"pinn", "baseline"},
		Metrics: []string{"psnr", "ms_ssim", "mae", "wall_s"},
		Info:    map[string]MetricInfo{"psnr": {Direction: Maximize}, "ms_ssim": {Direction: Maximize}, "mae": {Direction: Minimize}, "wall_s": {Direction: Minimize}},
	}
	for _, model := range d.Models {
		tvs := []int{-1}
		if model == "pinn" {
			tvs = []int{0, 1, 2, 3, 4}
		}
		for ni := range 5 {
			for pi := range 5 {
				for _, tv := range tvs {
					c := Cell{Model: model, Levels: []int{pi, ni, tv}, Metrics: map[string]Stat{}}
					if model == "baseline" && pi == 4 && ni == 4 {
						continue // never run
					}
					if model == "pinn" && ((pi == 0 && ni == 4 && tv == 4) || (pi == 1 && ni == 0 && tv == 0)) {
						c.Failed = true
						d.Cells = append(d.Cells, c)
						continue
					}
					psnr := 14 + 3.2*float64(pi) + 1.1*float64(ni) - 0.12*float64(pi*ni)
					if model == "pinn" {
						dt := float64(tv) - 2
						psnr += 2.5 - 0.45*float64(pi) - 0.6*dt*dt
					}
					psnr += r.NormFloat64() * 0.3
					std := 0.4 + 0.3*r.Float64()
					ssim := 1 - math.Exp(-(psnr-8)/9)
					mae := 0.6 * math.Exp(-psnr/12)
					wall := 40 * math.Pow(2, float64(ni)) * (1 + 0.3*r.Float64())
					if model == "pinn" {
						wall *= 1.8
					}
					c.Metrics["psnr"] = Stat{Mean: psnr, Std: std, SEM: std / math.Sqrt(5), CI95: 2.776 * std / math.Sqrt(5), N: 5}
					c.Metrics["ms_ssim"] = Stat{Mean: ssim, Std: 0.01, SEM: 0.0045, CI95: 0.012, N: 5}
					c.Metrics["mae"] = Stat{Mean: mae, Std: mae * 0.05, SEM: mae * 0.02, CI95: mae * 0.06, N: 5}
					c.Metrics["wall_s"] = Stat{Mean: wall, Std: wall * 0.1, SEM: wall * 0.04, CI95: wall * 0.12, N: 5}
					d.Cells = append(d.Cells, c)
				}
			}
		}
	}
	// Convergence of psnr for the best pinn and baseline settings.
	d.Curves = map[string][]Curve{}
	for i, c := range d.Cells {
		if c.Levels[0] == 3 && c.Levels[1] == 3 && (c.Levels[2] == 2 || c.Levels[2] == -1) {
			cv := Curve{Model: c.Model, Cell: i}
			final := c.Metrics["psnr"].Mean
			for s := 0; s <= 50; s++ {
				step := float64(s * 100)
				m := final - (final-8)*math.Exp(-float64(s)/8) + r.NormFloat64()*0.1
				sd := 0.3 + 1.5*math.Exp(-float64(s)/10)
				cv.Steps = append(cv.Steps, step)
				cv.Mean = append(cv.Mean, m)
				cv.Lo = append(cv.Lo, m-sd)
				cv.Hi = append(cv.Hi, m+sd)
			}
			d.Curves["psnr"] = append(d.Curves["psnr"], cv)
		}
	}
	return d
}

// bigStudy is a study of nx × ny × nz × 2 models cells with one metric
// set, for benchmarks and label-thinning tests.
func bigStudy(nx, ny, nz int) Data {
	r := rand.New(rand.NewPCG(3, 4))
	mk := func(name string, n int, scale string) Param {
		p := Param{Name: name, Scale: scale}
		for i := range n {
			v := math.Pow(10, float64(i)/4)
			p.Labels = append(p.Labels, strconv.FormatFloat(v, 'g', 3, 64))
			p.Numeric = append(p.Numeric, v)
		}
		return p
	}
	d := Data{
		Params:  []Param{mk("a", nx, ScaleLog), mk("b", ny, ScaleLog), mk("c", nz, ScaleLinear)},
		Models:  []string{"pinn", "baseline"},
		Metrics: []string{"psnr", "mae", "wall_s"},
		Info:    map[string]MetricInfo{"psnr": {Direction: Maximize}, "mae": {Direction: Minimize}, "wall_s": {Direction: Minimize}},
	}
	for _, m := range d.Models {
		for i := range nx {
			for j := range ny {
				for k := range nz {
					v := 20 + 10*math.Sin(float64(i)/7)*math.Cos(float64(j)/5) + float64(k)*0.1 + r.NormFloat64()
					d.Cells = append(d.Cells, Cell{Model: m, Levels: []int{i, j, k}, Metrics: map[string]Stat{
						"psnr":   {Mean: v, Std: 0.5, SEM: 0.2, CI95: 0.5, N: 5},
						"mae":    {Mean: 1 / v, Std: 0.01, N: 5},
						"wall_s": {Mean: 100 + float64(i*j), Std: 5, N: 5},
					}})
				}
			}
		}
	}
	return d
}
