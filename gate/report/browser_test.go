package report

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"
)

// The browser check renders report.html in headless Chromium: the DOM it
// builds, the console (where a blocked load or a markup error would be
// reported) and a screenshot. It drives the chromium binary directly rather
// than through the DevTools protocol, so it needs no dependency.

// screenshotEnv names a file the browser test also copies its screenshot
// to, for a person to look at.
const screenshotEnv = "TAILGATE_REPORT_SCREENSHOT"

// chromium finds the browser, or skips the test when none is installed.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome-stable", "google-chrome"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	t.Skip("SKIPPED: the HTML report's browser check needs Chromium, which is not installed " +
		"(apt-get install chromium; scripts/test installs it)")
	return ""
}

// runChromium runs one headless Chromium with a fresh profile and returns
// its standard output and standard error.
func runChromium(t *testing.T, browser string, args ...string) (stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	flags := []string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-dev-shm-usage", "--hide-scrollbars", "--enable-logging=stderr", "--v=0",
		"--user-data-dir=" + t.TempDir(),
	}
	cmd := exec.CommandContext(ctx, browser, append(flags, args...)...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s", browser, strings.Join(args, " "), err, errOut.String())
	}
	return out.String(), errOut.String()
}

// consoleLine matches Chromium's log lines of page console messages.
var consoleLine = regexp.MustCompile(`(?m)^.*:CONSOLE[(:].*$`)

// renderInChromium writes data to the file page, has Chromium load it and
// build its DOM, fails the test on any console message, and returns the
// DOM parsed. Chromium runs with the given flags too (a screenshot of the
// same load, say).
func renderInChromium(t *testing.T, browser, page string, data []byte, flags ...string) *html.Node {
	t.Helper()
	if err := os.WriteFile(page, data, 0o644); err != nil {
		t.Fatal(err)
	}
	dom, stderr := runChromium(t, browser, append(flags, "--dump-dom", fileURL(page))...)
	if lines := consoleLine.FindAllString(stderr, -1); len(lines) > 0 {
		t.Errorf("the page wrote to the console:\n%s", strings.Join(lines, "\n"))
	}
	doc, err := html.Parse(strings.NewReader(dom))
	if err != nil {
		t.Fatalf("the DOM Chromium built does not parse: %v", err)
	}
	return doc
}

func fileURL(path string) string {
	return "file://" + filepath.ToSlash(path)
}

func TestHTMLRendersInChromium(t *testing.T) {
	browser := chromium(t)
	dir := t.TempDir()

	// The console check must see a console message when there is one.
	canary := filepath.Join(dir, "canary.html")
	if err := os.WriteFile(canary, []byte(`<!DOCTYPE html><title>canary</title><script>console.error("tailgate-canary")</script>`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, stderr := runChromium(t, browser, "--dump-dom", fileURL(canary)); !strings.Contains(strings.Join(consoleLine.FindAllString(stderr, -1), "\n"), "tailgate-canary") {
		t.Fatalf("Chromium's console messages are not where the test looks for them; its log was:\n%s", stderr)
	}

	res := fixtures(t)["fail"]
	page := filepath.Join(dir, HTMLFile)
	var buf bytes.Buffer
	if err := HTMLWithBaseline(&buf, res, fixtureBaseline(t)); err != nil {
		t.Fatal(err)
	}
	// One load both builds the DOM and paints the screenshot.
	shot := filepath.Join(dir, "report.png")
	doc := renderInChromium(t, browser, page, buf.Bytes(), "--screenshot="+shot, "--window-size=1280,2000")
	var spectra, charts, chartTitles int
	var h1, title string
	walk(doc, func(n *html.Node) {
		switch n.Data {
		case "h1":
			h1 = strings.TrimSpace(textOf(n))
		case "title":
			if n.Parent.Data == "head" {
				title = textOf(n)
			} else if n.Parent.Data == "svg" {
				chartTitles++
			}
		case "svg":
			charts++
			if hasClass(n, "spectrum") {
				spectra++
			}
		}
	})
	if h1 != "FAIL" || !strings.HasPrefix(title, "tailgate FAIL") {
		t.Errorf("Chromium shows heading %q and title %q, want the FAIL verdict", h1, title)
	}
	if spectra != len(res.Components) || charts == 0 || chartTitles != charts {
		t.Errorf("Chromium built %d spectrum charts (want %d) among %d charts, %d of them titled", spectra, len(res.Components), charts, chartTitles)
	}

	f, err := os.Open(shot)
	if err != nil {
		t.Fatalf("no screenshot: %v", err)
	}
	img, err := png.Decode(f)
	f.Close()
	if err != nil {
		t.Fatalf("the screenshot is not a PNG: %v", err)
	}
	checkScreenshot(t, img)
	if path := os.Getenv(screenshotEnv); path != "" {
		data, err := os.ReadFile(shot)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot written to %s", path)
	}
}

// checkScreenshot looks at what was painted: the whole window, the red
// banner of a failed verdict on top, and plenty of drawing below it.
func checkScreenshot(t *testing.T, img image.Image) {
	t.Helper()
	b := img.Bounds()
	if b.Dx() != 1280 || b.Dy() != 2000 {
		t.Errorf("screenshot is %dx%d, want 1280x2000", b.Dx(), b.Dy())
	}
	// The fail banner's background, #ffebe9, fills the top left corner.
	r, g, bl, _ := img.At(8, 8).RGBA()
	if r>>8 < 0xf0 || g>>8 < 0xd8 || g>>8 > 0xf5 || bl>>8 < 0xd8 || bl>>8 > 0xf5 {
		t.Errorf("top left pixel is #%02x%02x%02x, want the fail banner's #ffebe9", r>>8, g>>8, bl>>8)
	}
	colours := map[uint32]bool{}
	for y := b.Min.Y + 200; y < b.Max.Y; y += 3 {
		for x := b.Min.X; x < b.Max.X; x += 3 {
			r, g, bl, _ := img.At(x, y).RGBA()
			colours[(r>>8)<<16|(g>>8)<<8|bl>>8] = true
		}
	}
	// Text, tables and charts paint hundreds of colours; a blank or broken
	// page a handful.
	if len(colours) < 200 {
		t.Errorf("the page below the banner paints only %d colours: is it blank?", len(colours))
	}
}
