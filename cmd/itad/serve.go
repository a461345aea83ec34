package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/itad/itad/web"
	"github.com/urfave/cli/v2"
)

var serveCommand = &cli.Command{
	Name:      "serve",
	Usage:     "serve the ledger to browsers: named accounts, the shredder station, devices and certificates",
	ArgsUsage: " ",
	Description: "Serves server-rendered pages on --listen (default 127.0.0.1:8080) over the ledger; the\n" +
		"command line keeps working on the same file meanwhile. Sign in with an account made by\n" +
		"'itad user add NAME --role ROLE'. Every change made in the browser is recorded with the\n" +
		"signed-in account as its actor. A non-loopback address needs --tls-cert and --tls-key,\n" +
		"or --behind-proxy for a TLS-terminating proxy on this machine (X-Forwarded-Proto and\n" +
		"X-Forwarded-For are then trusted from loopback only). SIGTERM or Ctrl-C shuts down\n" +
		"gracefully. Certificates issued in the browser are kept in --cert-dir for download.",
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "listen", Value: "127.0.0.1:8080", Usage: "address to listen on"},
		&cli.StringFlag{Name: "tls-cert", Usage: "TLS certificate file (PEM)"},
		&cli.StringFlag{Name: "tls-key", Usage: "TLS key file (PEM)"},
		&cli.BoolFlag{Name: "behind-proxy", Usage: "a TLS-terminating reverse proxy on loopback is in front"},
		&cli.StringFlag{Name: "cert-dir", Usage: "folder for issued certificate PDFs (default: certificates beside the ledger)"},
	},
	Action: serveAction,
}

func serveAction(c *cli.Context) error {
	if c.NArg() != 0 {
		return usageErr("serve takes no arguments")
	}
	tlsOn := c.String("tls-cert") != "" || c.String("tls-key") != ""
	if tlsOn && (c.String("tls-cert") == "" || c.String("tls-key") == "") {
		return usageErr("--tls-cert and --tls-key go together: give both")
	}
	if err := web.CheckListen(c.String("listen"), tlsOn, c.Bool("behind-proxy")); err != nil {
		return &userError{err: err, code: exitUsage, hint: "give --tls-cert FILE --tls-key FILE, or --behind-proxy behind a TLS proxy, or listen on 127.0.0.1"}
	}
	s, err := openLedger(c)
	if err != nil {
		return err
	}
	defer s.Close()
	if s.ReadOnly() {
		return withHint(fmt.Errorf("%s cannot be written", s.Path()), "serve a ledger this user can write: sign-ins and changes are recorded in it")
	}
	us, err := s.Users()
	if err != nil {
		return err
	}
	cfg := web.Config{Store: s, TLS: tlsOn, BehindProxy: c.Bool("behind-proxy"), CertDir: c.String("cert-dir")}
	if cfg.CertDir == "" {
		cfg.CertDir = filepath.Join(filepath.Dir(c.String("db")), "certificates")
	}
	// The signing key is loaded once, at start; without one, issuing is
	// refused in the browser with a hint.
	if signer, err := loadSigner(c, s); err == nil {
		ns, err := noteSigner(signer)
		if err != nil {
			return err
		}
		cfg.Signer, cfg.NoteSigner = signer, ns
	} else {
		fmt.Fprintf(c.App.ErrWriter, "itad: note: certificates cannot be issued from the browser: %v\n", err)
	}
	srv, err := web.New(cfg)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", c.String("listen"))
	if err != nil {
		return withHint(err, "choose another address with --listen HOST:PORT")
	}
	scheme := "http"
	if tlsOn {
		scheme = "https"
	}
	fmt.Fprintf(c.App.Writer, "itad serve: %s on %s://%s (Ctrl-C to stop)\n", s.Path(), scheme, ln.Addr())
	if len(us) == 0 {
		fmt.Fprintf(c.App.ErrWriter, "itad: hint: no account yet: create one with 'itad user add NAME --role admin'\n")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err = web.Serve(ctx, ln, srv.Handler(), c.String("tls-cert"), c.String("tls-key"))
	if err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	fmt.Fprintln(c.App.Writer, "itad serve: stopped")
	return nil
}
