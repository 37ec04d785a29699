// Package browsertest drives headless Chromium (Debian's chromium) from
// tests with chromedp, and records what a page did: every network request,
// every JavaScript dialog (alert, confirm, prompt: the sign of injected
// script), console messages and uncaught exceptions (a Content-Security-
// Policy violation is reported there).
package browsertest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/pcapq/pcapq/internal/testenv"
)

// Browser is one headless Chromium tab.
type Browser struct {
	Ctx context.Context

	mu         sync.Mutex
	requests   []string
	ids        map[network.RequestID]string
	blocked    map[string]bool // URLs the browser refused to fetch (CSP)
	dialogs    []string
	console    []string
	exceptions []string
}

// Start launches Chromium (ending the test through testenv.Missing when it
// is not installed) with a tab of width x height pixels; it is closed at
// the end of the test. timeout bounds everything done in it.
func Start(t testing.TB, width, height int, timeout time.Duration) *Browser {
	t.Helper()
	exe := testenv.Tool(t, "chromium")
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox, // tests run as root
		chromedp.DisableGPU,
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("allow-file-access-from-files", false),
		chromedp.WindowSize(width, height),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	b := &Browser{ids: map[network.RequestID]string{}, blocked: map[string]bool{}}
	var tabCtx context.Context
	ctx, cancelTab := chromedp.NewContext(actx, chromedp.WithListener(func(ev any) {
		// Runs in the tab's message loop: record, run no command here.
		b.mu.Lock()
		defer b.mu.Unlock()
		switch e := ev.(type) {
		case *network.EventRequestWillBeSent:
			b.requests = append(b.requests, e.Request.URL)
			b.ids[e.RequestID] = e.Request.URL
		case *network.EventLoadingFailed:
			if e.BlockedReason == network.BlockedReasonCsp {
				b.blocked[b.ids[e.RequestID]] = true
			}
		case *page.EventJavascriptDialogOpening:
			b.dialogs = append(b.dialogs, string(e.Type)+": "+e.Message)
			go chromedp.Call(tabCtx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
		case *runtime.EventConsoleAPICalled:
			var parts []string
			for _, a := range e.Args {
				parts = append(parts, string(a.Value))
			}
			b.console = append(b.console, string(e.Type)+": "+strings.Join(parts, " "))
		case *runtime.EventExceptionThrown:
			msg := e.ExceptionDetails.Text
			if e.ExceptionDetails.Exception != nil {
				msg += " " + e.ExceptionDetails.Exception.Description
			}
			b.exceptions = append(b.exceptions, msg)
		case *log.EventEntryAdded:
			b.console = append(b.console, fmt.Sprintf("%s %s: %s", e.Entry.Source, e.Entry.Level, e.Entry.Text))
		}
	}))
	tabCtx = ctx
	ctx, cancelTime := context.WithTimeout(ctx, timeout)
	b.Ctx = ctx
	t.Cleanup(func() {
		cancelTime()
		cancelTab()
		cancelAlloc()
	})
	// The first action starts the browser and attaches the tab (with the
	// Network, Log, Runtime and Page domains on).
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting chromium (%s): %v", exe, err)
	}
	return b
}

// Requests returns the URLs the page has requested so far, but for those
// the browser refused to fetch because of the page's Content-Security-
// Policy (they never left the browser): see Blocked.
func (b *Browser) Requests() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for _, u := range b.requests {
		if !b.blocked[u] {
			out = append(out, u)
		}
	}
	return out
}

// Blocked returns the URLs the browser refused to fetch because of the
// page's Content-Security-Policy.
func (b *Browser) Blocked() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for u := range b.blocked {
		out = append(out, u)
	}
	return out
}

// Dialogs returns the JavaScript dialogs opened so far.
func (b *Browser) Dialogs() []string { return b.copy(&b.dialogs) }

// Console returns console and log messages (CSP violations among them).
func (b *Browser) Console() []string { return b.copy(&b.console) }

// Exceptions returns uncaught JavaScript exceptions.
func (b *Browser) Exceptions() []string { return b.copy(&b.exceptions) }

func (b *Browser) copy(s *[]string) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), (*s)...)
}

// CheckClean fails the test if the page opened a dialog, threw, or logged
// an error or warning (a CSP violation, a failed load), except messages
// holding one of expected (e.g. the status of a request the test made
// fail on purpose).
func (b *Browser) CheckClean(t testing.TB, expected ...string) {
	t.Helper()
	for _, d := range b.Dialogs() {
		t.Errorf("the page opened a dialog (injected script ran): %s", d)
	}
	for _, e := range b.Exceptions() {
		t.Errorf("uncaught exception: %s", e)
	}
console:
	for _, c := range b.Console() {
		for _, e := range expected {
			if strings.Contains(c, e) {
				continue console
			}
		}
		if strings.Contains(c, "error") || strings.Contains(c, "warning") || strings.Contains(c, "Content Security Policy") {
			t.Errorf("console: %s", c)
		}
	}
}
