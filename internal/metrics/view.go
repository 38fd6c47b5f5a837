package metrics

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// Snapshot is one scrape and when it was taken.
type Snapshot struct {
	At time.Time
	F  Families
}

// Render writes the view of `ferry stats`: cur, with rates over the time
// since prev (prev.F nil: no rates). Latency percentiles are those of the
// requests of the interval, or of all requests since the process started
// when the interval had none (marked *).
func Render(w io.Writer, what string, prev, cur Snapshot) error {
	v := &view{prev: prev, cur: cur, dt: cur.At.Sub(prev.At).Seconds()}
	if prev.F == nil || v.dt <= 0 {
		v.dt = 0
	}
	var b strings.Builder
	fmt.Fprintf(&b, "ferry stats  %s  %s\n", what, cur.At.Format("2006-01-02 15:04:05"))
	v.ops(&b, "FUSE REQUESTS", "ferry_fuse_request")
	v.ops(&b, "WIRE CALLS", "ferry_wire_call")
	v.client(&b)
	v.leases(&b)
	v.caches(&b)
	v.objects(&b)
	v.process(&b)
	_, err := io.WriteString(w, b.String())
	return err
}

type view struct {
	prev, cur Snapshot
	dt        float64 // seconds between the scrapes; 0: no rates
}

// count formats a counter's total and its rate.
func (v *view) count(name string, match ...string) string {
	n := v.cur.F.Value(name, match...)
	if v.dt == 0 {
		return num(n)
	}
	return fmt.Sprintf("%s (%s/s)", num(n), v.rate(n-v.prev.F.Value(name, match...)))
}

func (v *view) rate(delta float64) string {
	if v.dt == 0 {
		return "-"
	}
	return num(math.Max(delta, 0) / v.dt)
}

// ops writes the table of an operation family: total, rate, p50, p99
// and errors per operation that ran, busiest first.
func (v *view) ops(b *strings.Builder, title, prefix string) {
	cur := v.cur.F.hists(prefix + "_duration_seconds")
	if len(cur) == 0 {
		return
	}
	old := v.prev.F.hists(prefix + "_duration_seconds")
	errs := v.cur.F.byLabel(prefix+"_errors_total", "op")
	names := make([]string, 0, len(cur))
	for op := range cur {
		names = append(names, op)
	}
	sort.Slice(names, func(i, j int) bool {
		a, c := cur[names[i]].count, cur[names[j]].count
		return a > c || a == c && names[i] < names[j]
	})
	fmt.Fprintf(b, "\n%s\n", title)
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "op\ttotal\tper s\tp50\tp99\terrors\t\n")
	for _, op := range names {
		h := cur[op]
		d := h.minus(old[op])
		mark := ""
		if d.count == 0 || v.dt == 0 {
			d, mark = h, "*"
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s%s\t%s%s\t%s\t\n", op, h.count, v.rate(float64(h.count-min(old[op].count, h.count))),
			dur(d.quantile(0.5)), mark, dur(d.quantile(0.99)), mark, num(errs[op]))
	}
	tw.Flush()
	var kinds []string
	for errno, n := range v.cur.F.byLabel(prefix+"_errors_total", "errno") {
		kinds = append(kinds, fmt.Sprintf("%s %s", errno, num(n)))
	}
	if len(kinds) > 0 {
		sort.Strings(kinds)
		fmt.Fprintf(b, "errors by kind: %s\n", strings.Join(kinds, ", "))
	}
}

func (v *view) client(b *strings.Builder) {
	f := v.cur.F
	if !f.has("ferry_client_local_answers_total") {
		return
	}
	fmt.Fprintf(b, "\nCLIENT\n")
	fmt.Fprintf(b, "round trips       %s\n", v.count("ferry_client_calls_total"))
	fmt.Fprintf(b, "answered locally  %s: lookup %s, getattr %s, getxattr %s\n", v.count("ferry_client_local_answers_total"),
		num(f.Value("ferry_client_local_answers_total", "op", "lookup")),
		num(f.Value("ferry_client_local_answers_total", "op", "getattr")),
		num(f.Value("ferry_client_local_answers_total", "op", "getxattr")))
}

func (v *view) leases(b *strings.Builder) {
	f := v.cur.F
	if !f.has("ferry_sessions") {
		return
	}
	fmt.Fprintf(b, "\nSESSIONS AND LEASES\n")
	fmt.Fprintf(b, "sessions          %s live, %s opened, expired %s lapsed, %s missed a recall\n",
		num(f.Value("ferry_sessions")), num(f.Value("ferry_sessions_opened_total")),
		num(f.Value("ferry_session_expiries_total", "why", "lapsed")), num(f.Value("ferry_session_expiries_total", "why", "recall")))
	fmt.Fprintf(b, "leases            %s held, grants %s\n", num(f.Value("ferry_leases")), v.count("ferry_lease_grants_total"))
	fmt.Fprintf(b, "recalls           %s, messages %s, pending %s\n", v.count("ferry_lease_recalls_total"),
		v.count("ferry_lease_recall_messages_total"), num(f.Value("ferry_recalls_pending")))
}

func (v *view) caches(b *strings.Builder) {
	f := v.cur.F
	kernel, block := f.has("ferry_kernel_invalidations_total"), f.has("ferry_block_cache_hits_total")
	if !kernel && !block {
		return
	}
	fmt.Fprintf(b, "\nCACHES\n")
	if kernel {
		fmt.Fprintf(b, "kernel invalidations  %s: inode %s, entry %s, delete %s\n", v.count("ferry_kernel_invalidations_total"),
			num(f.Value("ferry_kernel_invalidations_total", "kind", "inode")),
			num(f.Value("ferry_kernel_invalidations_total", "kind", "entry")),
			num(f.Value("ferry_kernel_invalidations_total", "kind", "delete")))
	}
	if block {
		hits := f.Value("ferry_block_cache_hits_total") + f.Value("ferry_block_cache_shared_total")
		misses := f.Value("ferry_block_cache_misses_total")
		fmt.Fprintf(b, "block cache           hits %s, misses %s, hit ratio %s, holds %s\n",
			v.count("ferry_block_cache_hits_total"), v.count("ferry_block_cache_misses_total"),
			ratio(hits, hits+misses), byteSize(f.Value("ferry_block_cache_bytes")))
	}
}

func (v *view) objects(b *strings.Builder) {
	f := v.cur.F
	if !f.has("ferry_object_read_bytes_total") {
		return
	}
	rd, wr := f.Value("ferry_object_read_bytes_total"), f.Value("ferry_object_written_bytes_total")
	rate := func(name string, n float64) string {
		if v.dt == 0 {
			return "-"
		}
		return byteSize(math.Max(n-v.prev.F.Value(name), 0) / v.dt)
	}
	fmt.Fprintf(b, "\nOBJECT STORE\n")
	fmt.Fprintf(b, "read     %s (%s/s) in %s gets\n", byteSize(rd), rate("ferry_object_read_bytes_total", rd), num(f.Value("ferry_object_calls_total", "op", "get")))
	fmt.Fprintf(b, "written  %s (%s/s) in %s puts\n", byteSize(wr), rate("ferry_object_written_bytes_total", wr), num(f.Value("ferry_object_calls_total", "op", "put")))
	if n := f.Value("ferry_object_errors_total"); n > 0 {
		fmt.Fprintf(b, "errors   %s\n", num(n))
	}
}

func (v *view) process(b *strings.Builder) {
	f := v.cur.F
	if !f.has("process_resident_memory_bytes") {
		return
	}
	cpu := "-"
	if v.dt > 0 {
		cpu = fmt.Sprintf("%.0f%%", 100*(f.Value("process_cpu_seconds_total")-v.prev.F.Value("process_cpu_seconds_total"))/v.dt)
	}
	fmt.Fprintf(b, "\nPROCESS  resident %s, cpu %s, goroutines %s\n",
		byteSize(f.Value("process_resident_memory_bytes")), cpu, num(f.Value("go_goroutines")))
}

// num formats a count or rate: whole numbers as such, others with one
// decimal.
func num(x float64) string {
	if x == math.Trunc(x) && math.Abs(x) < 1e15 {
		return fmt.Sprintf("%.0f", x)
	}
	return fmt.Sprintf("%.1f", x)
}

// dur formats seconds for a latency column.
func dur(s float64) string {
	switch {
	case math.IsNaN(s):
		return "-"
	case math.IsInf(s, 1):
		return ">4s"
	case s < 1e-5:
		return fmt.Sprintf("%.1fus", s*1e6)
	case s < 1e-3:
		return fmt.Sprintf("%.0fus", s*1e6)
	case s < 1:
		return fmt.Sprintf("%.1fms", s*1e3)
	}
	return fmt.Sprintf("%.2fs", s)
}

func ratio(part, whole float64) string {
	if whole == 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f%%", 100*part/whole)
}

func byteSize(n float64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	i := 0
	for n >= 1024 && i < len(units)-1 {
		n /= 1024
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%.0f B", n)
	}
	return fmt.Sprintf("%.1f %s", n, units[i])
}
