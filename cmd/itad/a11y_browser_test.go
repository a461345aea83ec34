package main

import (
	"context"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// a11yJS is the accessibility pass the browser tests run in each page.
// It returns one line per problem, empty when there is none:
//
//   - "contrast: ..." for every visible element with text of its own (a
//     text node child, a field's value, or a field's placeholder when it
//     is empty) whose WCAG 2.x contrast ratio, computed colour against
//     its effective background, is under 4.5:1, or under 3:1 for large
//     text (at least 24px, or 18.66px bold). The background is the
//     background-color of the element or its nearest ancestor that is
//     not transparent, semi-transparent layers composited over what is
//     below them, over white when no ancestor has one; SVG text is read
//     by its fill, over the background of its <svg>. Disabled controls
//     are exempt (WCAG 1.4.3).
//   - "keyboard: ..." for every a, button, input (but hidden ones),
//     select and textarea that is not rendered (display:none), has a
//     negative tabIndex, does not take focus when asked, or once focused
//     shows no focus ring: an outline, or a box-shadow ring, at least
//     2px wide (of a box-shadow, what the outline leaves in view) and of
//     3:1 against the background around it (WCAG 2.4.7 and 1.4.11), or
//     the browser's own ring (outline-style auto).
//   - "name: ..." for every one of them without an accessible name:
//     aria-label, aria-labelledby naming text, a label (for= or
//     wrapping), the text of a link or button (an image's alt in it),
//     the value of an input button, or a title.
//
// It puts focus and scrolling back as they were.
const a11yJS = `(() => {
  const out = [];
  const parse = s => {
    const m = /^rgba?\(\s*([\d.]+)[\s,]+([\d.]+)[\s,]+([\d.]+)(?:\s*[,\/]\s*([\d.]+)(%?))?\s*\)$/.exec(s || "");
    if (!m) return null;
    const a = m[4] === undefined ? 1 : parseFloat(m[4]) / (m[5] ? 100 : 1);
    return [+m[1], +m[2], +m[3], a];
  };
  const over = (fg, bg) => [0, 1, 2].map(i => fg[i] * fg[3] + bg[i] * (1 - fg[3])).concat([1]);
  const lum = c => {
    const f = v => { v /= 255; return v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]);
  };
  const ratio = (a, b) => { const x = lum(a), y = lum(b); return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05); };
  const rgb = c => "rgb(" + c.slice(0, 3).map(Math.round).join(", ") + ")";
  // background: the colour behind el's text, or null when a colour
  // cannot be read.
  const background = el => {
    const layers = [];
    for (let e = el; e && e.nodeType === 1; e = e.parentElement) {
      if (e instanceof SVGElement && !(e instanceof SVGSVGElement)) continue;
      const c = parse(getComputedStyle(e).backgroundColor);
      if (!c) return null;
      if (c[3] > 0) { layers.push(c); if (c[3] >= 1) break; }
    }
    let bg = [255, 255, 255, 1];
    for (let i = layers.length - 1; i >= 0; i--) bg = over(layers[i], bg);
    return bg;
  };
  const rendered = e => e.getClientRects().length > 0;
  const text = s => (s || "").replace(/\s+/g, " ").trim();
  const describe = (e, what) => {
    let d = e.tagName.toLowerCase();
    if (e.id) d += "#" + e.id;
    const cls = typeof e.className === "string" ? text(e.className) : "";
    if (cls) d += "." + cls.split(" ").join(".");
    if (what === undefined) what = e.matches("select") ? (e.selectedOptions[0] || {}).text : e.textContent;
    return d + ' "' + text(what).slice(0, 40) + '"';
  };
  const fields = "input:not([type=hidden]):not([type=checkbox]):not([type=radio]):not([type=range]):not([type=color]), select, textarea";
  const check = (e, style, shown) => {
    const bg = background(e);
    let fg = parse(e instanceof SVGElement ? style.fill : style.color);
    if (!fg || !bg) {
      out.push("contrast: cannot read the colours of " + describe(e, shown) + ": " + (e instanceof SVGElement ? style.fill : style.color) + " on " + getComputedStyle(e).backgroundColor);
      return;
    }
    fg = over(fg, bg);
    const size = parseFloat(style.fontSize), bold = parseInt(style.fontWeight, 10) >= 700;
    const need = size >= 24 || (size >= 18.66 && bold) ? 3 : 4.5;
    const r = ratio(fg, bg);
    if (r < need) {
      out.push("contrast: " + describe(e, shown) + " is " + r.toFixed(2) + ":1, under " + need + ":1 (" + rgb(fg) + " on " + rgb(bg) + ", " + style.fontSize + (bold ? " bold" : "") + ")");
    }
  };
  for (const e of document.body.querySelectorAll("*")) {
    if (e.matches("script, style, title, noscript, template") || e.matches(":disabled")) continue;
    const style = getComputedStyle(e);
    if (style.visibility !== "visible" || style.display === "none" || !rendered(e)) continue;
    const own = Array.from(e.childNodes).some(n => n.nodeType === 3 && text(n.textContent) !== "");
    if (e.matches(fields)) {
      const shown = e.matches("select") ? (e.selectedOptions[0] || {}).text : e.value;
      if (text(shown) !== "" && !e.matches("input[type=file]")) check(e, style, shown);
      else if (text(e.placeholder) !== "") check(e, getComputedStyle(e, "::placeholder"), e.placeholder);
    } else if (own && !e.matches("option, optgroup")) {
      check(e, style);
    }
  }
  const active = document.activeElement, x = window.scrollX, y = window.scrollY;
  const named = e => {
    if (text(e.getAttribute("aria-label"))) return true;
    const by = e.getAttribute("aria-labelledby");
    if (by && by.split(/\s+/).some(id => { const r = document.getElementById(id); return r && text(r.textContent); })) return true;
    if (e.labels && Array.from(e.labels).some(l => text(l.textContent))) return true;
    if (e.matches("a, button") && (text(e.textContent) || Array.from(e.querySelectorAll("img[alt]")).some(i => text(i.alt)))) return true;
    if (e.matches("input[type=submit], input[type=reset]")) return true; // "Submit", "Reset"
    if (e.matches("input[type=button]") && text(e.value)) return true;
    if (e.matches("input[type=image]") && text(e.alt)) return true;
    return text(e.title) !== "";
  };
  for (const e of document.querySelectorAll("a, button, input, select, textarea")) {
    if (e.matches("input[type=hidden]") || e.matches(":disabled")) continue;
    if (getComputedStyle(e).display === "none" || !rendered(e)) {
      out.push("keyboard: " + describe(e) + " is not rendered (display:none)");
    } else if (e.tabIndex < 0) {
      out.push("keyboard: " + describe(e) + " has tabIndex " + e.tabIndex);
    } else {
      e.focus({preventScroll: true});
      if (document.activeElement !== e) {
        out.push("keyboard: " + describe(e) + " does not take focus");
      } else {
        // The focus ring: an outline (or a box-shadow ring) at least
        // 2px wide of 3:1 against the background around the element.
        const fs = getComputedStyle(e), bg = background(e.parentElement || e), ring = [];
        if (fs.outlineStyle === "auto") ring.push(21); // the browser's own two-tone ring
        else if (fs.outlineStyle !== "none" && parseFloat(fs.outlineWidth) >= 2) ring.push(fs.outlineColor);
        const sh = /^(rgba?\([^)]*\))\s+0px\s+0px\s+0px\s+([\d.]+)px/.exec(fs.boxShadow);
        // The part of a box-shadow ring that the outline leaves in view.
        const under = fs.outlineStyle === "none" ? 0 : parseFloat(fs.outlineWidth) + Math.max(0, parseFloat(fs.outlineOffset) || 0);
        if (sh && parseFloat(sh[2]) - under >= 2) ring.push(sh[1]);
        const ok = ring.some(c => {
          if (typeof c === "number") return true;
          const p = parse(c);
          return p && bg && ratio(over(p, bg), bg) >= 3;
        });
        if (!ok) out.push("keyboard: " + describe(e) + " shows no focus ring of 3:1 against " + (bg ? rgb(bg) : "its background") +
          " (outline " + fs.outlineStyle + " " + fs.outlineWidth + " " + fs.outlineColor + ", box-shadow " + fs.boxShadow + ")");
      }
    }
    if (!named(e)) out.push("name: " + describe(e, e.outerHTML) + " has no accessible name");
  }
  if (active && active !== document.body && active.focus) active.focus({preventScroll: true});
  else if (document.activeElement && document.activeElement.blur) document.activeElement.blur();
  window.scrollTo(x, y);
  return out;
})()`

// a11yRun runs a11yJS in the current page, the page emulating a focused
// window: a headless browser's page has no focus of its own, so :focus
// styles would never apply.
func a11yRun(ctx context.Context) ([]string, error) {
	focus := func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, tg, emulation.SetFocusEmulationEnabled, emulation.SetFocusEmulationEnabledParams{Enabled: true})
		return chromedp.Void{}, err
	}
	if err := chromedp.Do(ctx, focus); err != nil {
		return nil, err
	}
	return chromedp.Run(ctx, chromedp.Evaluate[[]string](a11yJS))
}

// checkA11y runs a11yJS in the current page and fails the test with
// every problem it lists.
func checkA11y(t *testing.T, ctx context.Context, page string) {
	t.Helper()
	problems, err := a11yRun(ctx)
	if err != nil {
		t.Fatalf("%s: accessibility pass: %v", page, err)
	}
	if len(problems) > 0 {
		t.Errorf("%s: accessibility pass:\n\t%s", page, strings.Join(problems, "\n\t"))
	}
}

// TestA11yCheck_Catches: the accessibility pass finds each kind of
// problem it is for, at the WCAG thresholds, and nothing in a page
// without one.
func TestA11yCheck_Catches(t *testing.T) {
	chrome := chromium(t)
	dir := t.TempDir()
	opts := append(chromedp.DefaultExecAllocatorOptions[:0:0],
		chromedp.ExecPath(chrome), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.NoFirstRun, chromedp.UserDataDir(filepath.Join(dir, "chrome")), chromedp.WindowSize(1024, 768))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, time.Minute)
	defer cancel()
	tests := []struct {
		name, body string
		want       []string // the start of each problem, in page order
	}{
		{"Clean", `<div style="background:#1f3a5f;color:#fff"><h1>Title</h1><a href="/x" style="color:#fff">link</a></div>
			<p style="color:#767676">4.54:1</p>
			<label for="a">Name</label><input id="a" value="x" placeholder="p"><label>Year <select><option>2020</option></select></label>
			<button>Go</button><a href="/x">link</a><button aria-label="close">×</button><input type="submit">
			<p style="font-size:24px;color:#949494">large, 3.03:1</p><p style="font-size:19px;font-weight:700;color:#949494">bold, 3.03:1</p>
			<p style="color:#fff;background:rgba(0,0,0,.7)">white on 70% black over white: 8.5:1</p>
			<svg width="100" height="20" style="background:#fff"><text x="0" y="15" fill="#374151">axis</text></svg>
			<button disabled style="color:#aaa">disabled</button>`, nil},
		{"Contrast", `<p style="color:#777">4.48:1</p><p style="font-size:24px;color:#999">large, 2.85:1</p>
			<p style="font-size:18px;font-weight:700;color:#949494">bold but small, 3.03:1</p>
			<div style="background:#1f3a5f"><span style="color:#1f5fa8">dark on dark</span></div>
			<p style="background:rgba(0,0,0,.5);color:#333">on half black</p>
			<svg width="100" height="20"><text x="0" y="15" fill="#bbb">axis</text></svg>
			<label for="i">Field</label><input id="i" style="color:#ccc" value="faint">
			<style>#j::placeholder{color:#aaa}</style><label for="j">Empty</label><input id="j" placeholder="faint hint">`,
			[]string{`contrast: p "4.48:1" is 4.48:1`, `contrast: p "large, 2.85:1" is 2.85:1, under 3:1`,
				`contrast: p "bold but small, 3.03:1" is 3.03:1, under 4.5:1`, `contrast: span "dark on dark"`,
				`contrast: p "on half black"`, `contrast: text "axis"`, `contrast: input#i "faint"`, `contrast: input#j "faint hint"`}},
		{"Keyboard", `<button tabindex="-1">skip</button><label for="n">N</label><input id="n" style="display:none">
			<a href="/x" tabindex="-1">link</a><span><input aria-label="ok"></span>`,
			[]string{`keyboard: button "skip" has tabIndex -1`, `keyboard: input#n "" is not rendered`, `keyboard: a "link" has tabIndex -1`}},
		{"FocusRing", `<style>#a:focus{outline:none} a:focus{outline:3px solid #f0b400} #d:focus{outline:1px solid #000}
			#e:focus{outline:3px solid #f0b400;box-shadow:0 0 0 5px #1b1f24} #f:focus{outline:3px solid #f0b400;box-shadow:0 0 0 4px #1b1f24}</style>
			<button id="a">a</button><a href="/x">b</a><div style="background:#1f3a5f"><a href="/y" style="color:#fff">c</a></div>
			<button id="d">d</button><button id="e">e</button><button id="f">f</button>`,
			[]string{`keyboard: button#a "a" shows no focus ring`, `keyboard: a "b" shows no focus ring of 3:1 against rgb(255, 255, 255)`,
				`keyboard: button#d "d" shows no focus ring`, `keyboard: button#f "f" shows no focus ring`}},
		{"Names", `<input id="q"><button></button><a href="/x"><img src="data:," alt="" width="16" height="16"></a><select><option>1</option></select>
			<input type="button"><button aria-labelledby="none">x</button><input title="Search">`,
			[]string{`name: input#q`, `name: button`, `name: a`, `name: select`, `name: input`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page := "data:text/html;charset=utf-8," + url.PathEscape(`<!doctype html><html lang="en"><head><title>t</title></head><body>`+tt.body+`</body></html>`)
			if _, err := chromedp.Run(ctx, chromedp.Navigate(page)); err != nil {
				t.Fatal(err)
			}
			got, err := a11yRun(ctx)
			if err != nil {
				t.Fatal(err)
			}
			ok := len(got) == len(tt.want)
			for i := 0; ok && i < len(got); i++ {
				ok = strings.HasPrefix(got[i], tt.want[i])
			}
			if !ok {
				t.Errorf("problems:\n\t%s\nwant (prefixes):\n\t%s", strings.Join(got, "\n\t"), strings.Join(tt.want, "\n\t"))
			}
			if slices.Contains(got, "") {
				t.Error("an empty problem")
			}
		})
	}
}
