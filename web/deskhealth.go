package web

import (
	"crypto/x509"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/itad/itad/ledger"
)

// Ledger health: the last verify this server ran and its result in the
// words of itad verify (ledger.WriteVerified, WriteVerifyProblems), the
// checkpoints the ledger holds and what they pin, and a button that runs
// verify in the background. The page polls (a meta refresh, no script)
// while verify runs, showing its progress. Verify only reads: it records
// nothing, as on the command line.

// verifyJob is one run of verify started from the health page.
type verifyJob struct {
	By           string
	Started, End time.Time
	total        int64
	done         atomic.Int64
	running      atomic.Bool
	OK           bool
	Output       string
}

// Progress is the job's percentage done.
func (j *verifyJob) Progress() int64 {
	if j.total <= 0 {
		return 0
	}
	p := j.done.Load() * 100 / j.total
	if p > 100 {
		p = 100
	}
	return p
}

// Running reports whether verify is still running.
func (j *verifyJob) Running() bool { return j.running.Load() }

// health holds the server's verify jobs.
type health struct {
	mu  sync.Mutex
	job *verifyJob
}

var healthJobs sync.Map // *Server -> *health

func (s *Server) health() *health {
	h, _ := healthJobs.LoadOrStore(s, &health{})
	return h.(*health)
}

func (s *Server) healthPage(req *request) error {
	cps, err := s.cfg.Store.Checkpoints()
	if err != nil {
		return err
	}
	for i, j := 0, len(cps)-1; i < j; i, j = i+1, j-1 {
		cps[i], cps[j] = cps[j], cps[i]
	}
	dir, err := s.cfg.Store.Setting(ledger.SettingCheckpointDir)
	if err != nil {
		return err
	}
	h := s.health()
	h.mu.Lock()
	job := h.job
	h.mu.Unlock()
	data := map[string]any{"Job": job, "Checkpoints": cps, "CheckpointDir": dir}
	if job != nil && job.Running() {
		data["Refresh"] = true
	}
	s.render(req, http.StatusOK, "health", data)
	return nil
}

// startVerify runs verify in the background, one run at a time.
func (s *Server) startVerify(req *request) error {
	h := s.health()
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.job != nil && h.job.Running() {
		http.Redirect(req.w, req.r, "/health", http.StatusSeeOther)
		return nil
	}
	total, err := s.cfg.Store.VerifyWork()
	if err != nil {
		return err
	}
	job := &verifyJob{By: req.sess.User.Name, Started: time.Now().UTC(), total: total}
	job.running.Store(true)
	h.job = job
	opts := ledger.VerifyOptions{Progress: func(n int64) { job.done.Store(n) }}
	var certPaths []string
	if s.cfg.Signer != nil {
		opts.Trusted = []*x509.Certificate{s.cfg.Signer.Cert}
		certPaths = []string{"the server's signing certificate"}
	}
	if d, err := s.cfg.Store.Setting(ledger.SettingCheckpointDir); err == nil && d != "" {
		if file, note, err := ledger.NewestInDir(d); err == nil {
			opts.External = append(opts.External, ledger.ExternalCheckpoint{Source: file, Note: note})
		}
	}
	go func() {
		res, err := s.cfg.Store.Verify(opts)
		var out strings.Builder
		var ve *ledger.VerifyError
		switch {
		case errors.As(err, &ve):
			ledger.WriteVerifyProblems(&out, s.cfg.Store.Path(), ve)
		case err != nil:
			out.WriteString("verify failed: " + err.Error() + "\n")
		default:
			ledger.WriteVerified(&out, s.cfg.Store.Path(), res, certPaths)
			job.OK = true
		}
		h.mu.Lock()
		job.Output, job.End = out.String(), time.Now().UTC()
		h.mu.Unlock()
		job.done.Store(job.total)
		job.running.Store(false)
	}()
	http.Redirect(req.w, req.r, "/health", http.StatusSeeOther)
	return nil
}
