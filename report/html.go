package report

import (
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"html/template"
	"io"
	"strings"
)

// The charting library is uPlot (https://github.com/leeoniya/uPlot), MIT
// licensed, fetched from the npm registry (npm pack uplot@1.6.32) and
// committed unchanged with its license in assets/uPlot.LICENSE; see
// assets/README.md.
//
//go:embed assets/uPlot.iife.min.js assets/uPlot.min.css assets/uPlot.LICENSE assets/report.css assets/report.js assets/page.html
var assets embed.FS

func asset(name string) string {
	b, err := assets.ReadFile("assets/" + name)
	if err != nil {
		panic(err)
	}
	return string(b)
}

var (
	uplotJS  = asset("uPlot.iife.min.js")
	reportJS = asset("report.js")
	// The license is kept in the page, as its own terms ask.
	pageCSS = "/* uPlot " + strings.ReplaceAll(strings.TrimSpace(asset("uPlot.LICENSE")), "*/", "* /") + " */\n" +
		asset("uPlot.min.css") + "\n" + asset("report.css")
	pageTmpl = template.Must(template.New("page.html").Funcs(template.FuncMap{
		"text": Text,
	}).Parse(asset("page.html")))
)

// csp is the page's Content-Security-Policy: only the page's own scripts
// and style (by hash) run, nothing is fetched from anywhere (a report file
// asks no host for anything), and in serve mode only the serving host is
// asked (connect-src 'self').
func csp(serve bool) string {
	h := func(s string) string {
		sum := sha256.Sum256([]byte(s))
		return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
	}
	p := "default-src 'none'; script-src " + h(uplotJS) + " " + h(reportJS) + "; style-src " + h(pageCSS) +
		"; img-src data:; base-uri 'none'; form-action 'none'"
	if serve {
		p += "; connect-src 'self'"
	}
	return p
}

// PageOptions adds the parts of the page pcapq serve serves.
type PageOptions struct {
	Console    bool   // the SQL console
	Live       bool   // the live counters, fed by server-sent events
	RefreshMS  int    // live: the report is recomputed this often while the counts change (0: 10 s)
	DefaultSQL string // the console's initial query
	Fragment   bool   // only the report's sections (for a live refresh)
}

type pageData struct {
	R       *Report
	P       PageOptions
	Serve   bool
	CSP     string
	CSS     template.CSS
	UPlot   template.JS
	JS      template.JS
	Charts  []*Chart
	Content bool // render the report sections (not the whole page)
}

// WriteHTML writes r as one self-contained HTML page: styles, the charting
// library and the data are inside it, and its Content-Security-Policy
// forbids fetching anything, so it opens offline and asks no host for
// anything. Every text is escaped by html/template for where it is
// written (element, attribute, or the JSON read by the chart script).
func WriteHTML(w io.Writer, r *Report) error {
	return WritePage(w, r, PageOptions{})
}

// WritePage writes r as WriteHTML does, with the serve parts of p.
func WritePage(w io.Writer, r *Report, p PageOptions) error {
	serve := p.Console || p.Live || p.Fragment
	d := pageData{R: r, P: p, Serve: serve, CSP: csp(serve), CSS: template.CSS(pageCSS),
		UPlot: template.JS(uplotJS), JS: template.JS(reportJS)}
	for _, s := range r.Sections {
		d.Charts = append(d.Charts, s.Charts...)
	}
	if d.Charts == nil {
		d.Charts = []*Chart{}
	}
	name := "page"
	if p.Fragment {
		name = "sections"
	}
	return pageTmpl.ExecuteTemplate(w, name, d)
}

// CSP is the Content-Security-Policy of the page pcapq serve serves, for
// its response header.
func CSP() string { return csp(true) }
