package main

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/itad/itad/certificate"
	"github.com/itad/itad/ledger"
	"github.com/itad/itad/web"
)

// startBrowser serves the ledger db (signing with the key in dir) on a
// test server and starts headless Chromium (chrome) with a fresh profile
// in dir, as CI runs it. It returns the store, the server, a browser
// context (3 minutes), the downloads folder and an action that saves a
// full-page screenshot as shots/NAME.png. Everything stops with the test.
func startBrowser(t *testing.T, chrome, dir, db, shots string) (*ledger.Store, *httptest.Server, context.Context, string, func(string) chromedp.Action[chromedp.Void]) {
	t.Helper()
	s, err := ledger.Open(db, ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	signer, err := certificate.LoadSigner(filepath.Join(dir, "itad-signing-key.pem"), filepath.Join(dir, "itad-signing-cert.pem"))
	if err != nil {
		t.Fatal(err)
	}
	ns, err := noteSigner(signer)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := web.New(web.Config{Store: s, Signer: signer, NoteSigner: ns, CertDir: filepath.Join(dir, "certificates"), Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)

	opts := append(chromedp.DefaultExecAllocatorOptions[:0:0],
		chromedp.ExecPath(chrome), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.NoFirstRun, chromedp.UserDataDir(filepath.Join(dir, "chrome")), chromedp.WindowSize(1280, 900))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	t.Cleanup(cancel)
	ctx, cancel = context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(cancel)
	downloads := filepath.Join(dir, "downloads")
	os.MkdirAll(downloads, 0o755)

	shot := func(name string) chromedp.Action[chromedp.Void] {
		return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
			buf, err := chromedp.FullScreenshot(100)(ctx, tg)
			if err != nil {
				return chromedp.Void{}, err
			}
			return chromedp.Void{}, os.WriteFile(filepath.Join(shots, name+".png"), buf, 0o644)
		}
	}
	return s, hs, ctx, downloads, shot
}
