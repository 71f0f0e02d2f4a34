package report

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"strings"
)

//go:embed report.html.tmpl
var htmlTemplate string

var tmpl = template.Must(template.New("report").Funcs(template.FuncMap{
	"dur":   Dur,
	"stamp": stamp,
	"pct":   func(f float64) string { return fmt.Sprintf("%.0f%%", 100*f) },
	"join":  strings.Join,
	"clip":  clip,
	"mb":    func(b int64) string { return fmt.Sprintf("%.1f", float64(b)/1e6) },
	"color": causeColor,
	"rowsOf": func(key, count string, rows []Row) rowsData {
		return rowsData{Key: key, Count: count, Rows: rows, PerMessage: true}
	},
	// eventsOf: a table of events that belong to no message (NOQUEUE
	// rejects, failed AUTH), without the messages and delay columns.
	"eventsOf": func(key, count string, rows []Row) rowsData {
		return rowsData{Key: key, Count: count, Rows: rows}
	},
}).Parse(htmlTemplate))

type rowsData struct {
	Key, Count string
	Rows       []Row
	PerMessage bool // rows count message attempts: show messages and worst delay
}

type htmlData struct {
	*Report
	Title         string
	TimelineSVG   template.HTML
	HistogramSVG  template.HTML
	TimelineCause []string
}

// WriteHTML writes the report as one self-contained HTML page: no external
// URL of any kind (the page's Content-Security-Policy forbids loading
// anything), charts as inline SVG drawn here, a few lines of inline script
// that sort the tables.
func WriteHTML(w io.Writer, r *Report, title string) error {
	if title == "" {
		title = "tempfail report"
	}
	d := htmlData{Report: r, Title: title, TimelineSVG: timelineSVG(r.Timeline), HistogramSVG: histogramSVG(r.DelayHist)}
	return tmpl.Execute(w, d)
}

// palette: one fixed colour per cause, so a cause looks the same in
// every report (colour-blind-safe hues first).
var palette = map[string]string{
	"greylisting": "#4e79a7", "rate_limit": "#f28e2b", "recipient_unverified": "#76b7b2",
	"recipient_unknown": "#e15759", "mailbox_full": "#59a14f", "sender_domain_dns": "#edc948",
	"sender_unverified": "#b07aa1", "client_reverse_dns": "#ff9da7", "dns_lookup_failure": "#9c755f",
	"timeout": "#bab0ac", "auth_required": "#8cd17d", "blocklist_reputation": "#b6992d",
	"spf_dmarc_policy": "#499894", "server_busy_resources": "#86bcb6", "remote_relay_or_app_failure": "#d37295",
	"content_policy": "#fabfd2", "tls_required": "#a0cbe8", "other": "#79706e",
}

func causeColor(c string) string {
	if p, ok := palette[c]; ok {
		return p
	}
	return "#444444"
}

func esc(s string) string { return template.HTMLEscapeString(s) }

// niceMax rounds v up to 1, 2 or 5 times a power of ten.
func niceMax(v float64) float64 {
	if v <= 5 {
		return 5 // five ticks of whole numbers
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

const (
	chartW, chartH         = 960.0, 280.0
	padL, padR, padT, padB = 56.0, 16.0, 12.0, 44.0
	plotW, plotH           = chartW - padL - padR, chartH - padT - padB
	axisStyle              = `stroke="#888" stroke-width="1"`
	labelStyle             = `font-size="11" fill="#333" font-family="sans-serif"`
)

func yAxis(b *strings.Builder, top float64) {
	for i := 0; i <= 5; i++ {
		v := top * float64(i) / 5
		y := padT + plotH - plotH*float64(i)/5
		fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#e4e4e4"/>`, padL, y, padL+plotW, y)
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="end" %s>%s</text>`, padL-6, y+4, labelStyle, fmtCount(v))
	}
	fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" %s/>`, padL, padT, padL, padT+plotH, axisStyle)
	fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" %s/>`, padL, padT+plotH, padL+plotW, padT+plotH, axisStyle)
}

func fmtCount(v float64) string {
	if v == math.Trunc(v) {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

// timelineSVG draws deferrals over time as stacked bars, one colour per
// cause, with a tooltip (SVG <title>) per segment.
func timelineSVG(tl Timeline) template.HTML {
	var b strings.Builder
	fmt.Fprintf(&b, `<svg role="img" aria-label="Deferrals over time by cause" viewBox="0 0 %.0f %.0f" width="100%%" preserveAspectRatio="xMinYMin meet">`, chartW, chartH)
	if len(tl.Buckets) == 0 {
		fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" text-anchor="middle" %s>no deferrals in this log</text></svg>`, chartW/2, chartH/2, labelStyle)
		return template.HTML(b.String())
	}
	var peak int64
	for _, bk := range tl.Buckets {
		var s int64
		for _, c := range bk.Counts {
			s += c
		}
		peak = max(peak, s)
	}
	top := niceMax(float64(peak))
	yAxis(&b, top)
	n := float64(len(tl.Buckets))
	bw := plotW / n
	gap := math.Min(1, bw*0.15)
	for i, bk := range tl.Buckets {
		x := padL + float64(i)*bw
		y := padT + plotH
		for ci, c := range bk.Counts {
			if c == 0 {
				continue
			}
			h := plotH * float64(c) / top
			y -= h
			fmt.Fprintf(&b, `<rect x="%.2f" y="%.2f" width="%.2f" height="%.2f" fill="%s"><title>%s  %s: %d</title></rect>`,
				x+gap/2, y, math.Max(bw-gap, 0.5), h, causeColor(tl.Causes[ci]), esc(stamp(bk.Start)), esc(tl.Causes[ci]), c)
		}
	}
	// x labels: up to 6 evenly spaced bucket starts
	ticks := min(6, len(tl.Buckets))
	for k := 0; k < ticks; k++ {
		i := 0
		if ticks > 1 {
			i = k * (len(tl.Buckets) - 1) / (ticks - 1)
		}
		x := padL + (float64(i)+0.5)*bw
		label := tl.Buckets[i].Start.Format("01-02 15:04")
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" %s/>`, x, padT+plotH, x, padT+plotH+4, axisStyle)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle" %s>%s</text>`, x, padT+plotH+18, labelStyle, esc(label))
	}
	fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle" %s>time, one bar per %s</text>`, padL+plotW/2, chartH-6, labelStyle, esc(Dur(tl.Bucket)))
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// histogramSVG draws the delivery delay distribution: recipients delivered
// at the first try and after deferrals, stacked per bin.
func histogramSVG(bins []DelayBin) template.HTML {
	var b strings.Builder
	fmt.Fprintf(&b, `<svg role="img" aria-label="Delivery delay distribution" viewBox="0 0 %.0f %.0f" width="100%%" preserveAspectRatio="xMinYMin meet">`, chartW, chartH)
	var peak int64
	for _, x := range bins {
		peak = max(peak, x.FirstTry+x.AfterDeferral)
	}
	if peak == 0 {
		fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" text-anchor="middle" %s>no deliveries in this log</text></svg>`, chartW/2, chartH/2, labelStyle)
		return template.HTML(b.String())
	}
	top := niceMax(float64(peak))
	yAxis(&b, top)
	bw := plotW / float64(len(bins))
	for i, x := range bins {
		bx := padL + float64(i)*bw + bw*0.1
		y := padT + plotH
		for _, s := range []struct {
			n     int64
			color string
			name  string
		}{{x.FirstTry, "#4e79a7", "first try"}, {x.AfterDeferral, "#f28e2b", "after deferral"}} {
			if s.n == 0 {
				continue
			}
			h := plotH * float64(s.n) / top
			y -= h
			fmt.Fprintf(&b, `<rect x="%.2f" y="%.2f" width="%.2f" height="%.2f" fill="%s"><title>%s, %s: %d</title></rect>`, bx, y, bw*0.8, h, s.color, esc(x.Label), s.name, s.n)
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle" %s>%s</text>`, padL+(float64(i)+0.5)*bw, padT+plotH+18, labelStyle, esc(x.Label))
	}
	fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle" %s>time from arrival to delivery</text>`, padL+plotW/2, chartH-6, labelStyle)
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}
