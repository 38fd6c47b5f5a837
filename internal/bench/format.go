package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// Format writes r for people: what was measured, a table of figures with
// their units and ratios to native, and notes.
//
//	metric                   ferry    native   ratio
//	create (ops/s)          17,234    45,120   0.38x
func Format(r Result, w io.Writer) error {
	var b strings.Builder
	width := max(len(r.Label), len(r.NativeLabel))
	fmt.Fprintf(&b, "%-*s  %s\n", width, r.Label, r.Dir)
	if r.HasNative() {
		fmt.Fprintf(&b, "%-*s  %s\n", width, r.NativeLabel, r.NativeDir)
	}
	var what []string
	if r.Files > 0 {
		what = append(what, groupDigits(int64(r.Files))+" files")
	}
	if r.SizeBytes > 0 {
		what = append(what, FormatSize(r.SizeBytes)+" file")
	}
	runs := fmt.Sprintf("median of %d runs", r.Runs)
	if r.Runs == 1 {
		runs = "1 run"
	}
	what = append(what, runs)
	fmt.Fprintf(&b, "%s\n\n", strings.Join(what, ", "))

	header := []string{"metric", r.Label}
	if r.HasNative() {
		header = append(header, r.NativeLabel, "ratio")
	}
	rows := [][]string{header}
	for _, m := range r.Metrics {
		row := []string{fmt.Sprintf("%s (%s)", m.Title, m.Unit), formatFigure(m.Value)}
		if r.HasNative() {
			row = append(row, formatFigure(m.Native), formatRatio(m.Ratio))
		}
		rows = append(rows, row)
	}
	writeTable(&b, rows)

	if r.SizeBytes > 0 && !r.ReadsCold && r.CacheNote != "" {
		fmt.Fprintf(&b, "\nread figures are warm: %s\n", r.CacheNote)
	}
	switch {
	case r.PID > 0 && r.RSSNote != "":
		fmt.Fprintf(&b, "\npeak RSS of pid %d unknown: %s\n", r.PID, r.RSSNote)
	case r.PID > 0:
		fmt.Fprintf(&b, "\npeak RSS of pid %d: %s\n", r.PID, FormatSize(r.PeakRSSBytes))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// FormatJSON writes r as one indented JSON object.
func FormatJSON(r Result, w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// writeTable writes rows with the first column left-aligned and the others
// right-aligned, three spaces apart.
func writeTable(b *strings.Builder, rows [][]string) {
	var widths []int
	for _, row := range rows {
		for i, cell := range row {
			if i == len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], len(cell))
		}
	}
	for _, row := range rows {
		var line strings.Builder
		for i, cell := range row {
			switch {
			case i == 0:
				fmt.Fprintf(&line, "%-*s", widths[i], cell)
			default:
				fmt.Fprintf(&line, "   %*s", widths[i], cell)
			}
		}
		b.WriteString(strings.TrimRight(line.String(), " "))
		b.WriteByte('\n')
	}
}

// formatFigure renders a rate with digit grouping and about three
// significant digits below 100: "45,120", "98.7", "3.14".
func formatFigure(v float64) string {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return "-"
	case math.Abs(v) >= 99.95:
		return groupDigits(int64(math.Round(v)))
	case math.Abs(v) >= 9.995:
		return strconv.FormatFloat(v, 'f', 1, 64)
	default:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
}

// formatRatio renders a ratio to native: "0.38x", "1.02x".
func formatRatio(v float64) string {
	if v <= 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return "-"
	}
	return strconv.FormatFloat(v, 'f', 2, 64) + "x"
}

// groupDigits renders n with a comma every three digits: "10,000".
func groupDigits(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
