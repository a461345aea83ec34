// Command station measures itad serve's shredder station on a real
// ledger: scan-to-response latency of one station (POST /station/scan
// over loopback HTTP, the page rendered), then N stations scanning into
// their own runs at once for a bounded time while another connection
// writes to the same file as the CLI would. It checks that every
// accepted scan is recorded exactly once and that no request failed (no
// "database is locked"), and prints median, p99 and max. bench/station.sh
// builds the ledger and runs it.
package main

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/itad/itad/ledger"
	"github.com/itad/itad/web"
)

func main() {
	db := flag.String("db", "", "ledger file (copied devices are added to it)")
	latN := flag.Int("latency-scans", 1000, "scans for the single-station latency")
	stations := flag.Int("stations", 20, "concurrent stations")
	dur := flag.Duration("duration", 30*time.Second, "how long the stations scan")
	per := flag.Int("per-station", 600, "devices prepared for each station (the loop stops when they run out)")
	flag.Parse()
	if err := run(*db, *latN, *stations, *per, *dur); err != nil {
		fmt.Fprintln(os.Stderr, "station:", err)
		os.Exit(1)
	}
}

type client struct {
	base, cookie, csrf string
	hc                 *http.Client
}

// scan posts one scan and returns the latency and the page's result.
func (c *client) scan(run, code string) (time.Duration, string, error) {
	form := url.Values{"csrf": {c.csrf}, "run": {run}, "method": {"shred"}, "code": {code}}
	req, _ := http.NewRequest("POST", c.base+"/station/scan", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Cookie", "itad_session="+c.cookie)
	t0 := time.Now()
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, "", err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	d := time.Since(t0)
	if err != nil {
		return d, "", err
	}
	b := string(body)
	switch {
	case resp.StatusCode == 200 && strings.Contains(b, `data-result="ok"`):
		return d, "ok", nil
	case strings.Contains(b, "database is locked"):
		return d, "locked", nil
	}
	return d, fmt.Sprintf("status %d", resp.StatusCode), nil
}

func pct(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	i := int(float64(len(ds))*p+0.5) - 1
	return ds[max(0, min(i, len(ds)-1))]
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

func run(path string, latN, stations, per int, dur time.Duration) error {
	s, err := ledger.Open(path, ledger.Options{})
	if err != nil {
		return err
	}
	defer s.Close()
	s.Actor = "bench"
	var devices int64
	s.DB().QueryRow(`SELECT count(*) FROM devices`).Scan(&devices)
	cs, err := s.Contractors()
	if err != nil || len(cs) == 0 {
		return fmt.Errorf("the ledger needs a contractor (%v)", err)
	}
	tag := time.Now().UTC().Format("150405")
	today := time.Now().UTC().Format("2006-01-02")
	// Fresh devices for the scans, added as an operator would add them.
	t0 := time.Now()
	serial := func(st, i int) string { return fmt.Sprintf("BENCH-%s-%02d-%05d", tag, st, i) }
	lists := make([][]string, stations+1) // lists[0]: the latency run
	for st := 0; st <= stations; st++ {
		n := per
		if st == 0 {
			n = latN
		}
		for i := 0; i < n; i++ {
			sn := serial(st, i)
			if _, err := s.AddDevice(ledger.Device{Serial: sn, Type: ledger.HDD, Make: "Bench", Model: "B1"}); err != nil {
				return err
			}
			lists[st] = append(lists[st], sn)
		}
		if _, err := s.AddBatch(ledger.Batch{Ref: fmt.Sprintf("BENCH-%s-%02d", tag, st), Contractor: cs[0].Name, RunOn: today}); err != nil {
			return err
		}
	}
	name := "bench-op-" + tag
	pw := "bench operator password"
	if _, err := s.AddUser(name, ledger.RoleOperator, []byte(pw)); err != nil {
		return err
	}
	fmt.Printf("ledger %s: %s devices before; prepared %s devices and %d runs in %s\n", path, ledger.Thousands(devices),
		ledger.Thousands(int64(latN+stations*per)), stations+1, time.Since(t0).Round(time.Millisecond))

	srv, err := web.New(web.Config{Store: s, Logf: func(f string, a ...any) { fmt.Fprintf(os.Stderr, f+"\n", a...) }})
	if err != nil {
		return err
	}
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	newClient := func() (*client, error) {
		sess, err := s.Login(name, pw, "bench")
		if err != nil {
			return nil, err
		}
		return &client{base: hs.URL, cookie: sess.ID, csrf: sess.CSRF, hc: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}}, nil
	}

	// 1. One station, sequential scans.
	c, err := newClient()
	if err != nil {
		return err
	}
	var lat []time.Duration
	cpu0 := cpuTime()
	for _, sn := range lists[0] {
		d, res, err := c.scan(fmt.Sprintf("BENCH-%s-%02d", tag, 0), sn)
		if err != nil || res != "ok" {
			return fmt.Errorf("latency scan %s: %v %s", sn, err, res)
		}
		lat = append(lat, d)
	}
	cpu := (cpuTime() - cpu0) / time.Duration(len(lat))
	fmt.Printf("one station, %d scans: median %s, p99 %s, max %s; CPU (server and client) %s a scan\n",
		len(lat), ms(pct(lat, 0.5)), ms(pct(lat, 0.99)), ms(pct(lat, 1)), ms(cpu))

	// 2. N stations at once for dur, and a CLI-like writer on its own
	// connection pool.
	cli, err := ledger.Open(path, ledger.Options{})
	if err != nil {
		return err
	}
	defer cli.Close()
	cli.Actor = "bench-cli"
	var (
		wg        sync.WaitGroup
		mu        sync.Mutex
		all       []time.Duration
		okScans   = make([]int, stations+1)
		locked    atomic.Int64
		failed    atomic.Int64
		cliWrites atomic.Int64
		stop      = make(chan struct{})
	)
	clients := make([]*client, stations+1)
	for st := 1; st <= stations; st++ {
		if clients[st], err = newClient(); err != nil {
			return err
		}
	}
	deadline := time.Now().Add(dur)
	for st := 1; st <= stations; st++ {
		c := clients[st]
		wg.Add(1)
		go func(st int, c *client) {
			defer wg.Done()
			var mine []time.Duration
			for _, sn := range lists[st] {
				if time.Now().After(deadline) {
					break
				}
				d, res, err := c.scan(fmt.Sprintf("BENCH-%s-%02d", tag, st), sn)
				switch {
				case err != nil:
					failed.Add(1)
					fmt.Fprintln(os.Stderr, "scan:", err)
				case res == "locked":
					locked.Add(1)
				case res != "ok":
					failed.Add(1)
					fmt.Fprintln(os.Stderr, "scan", sn, res)
				default:
					okScans[st]++
				}
				mine = append(mine, d)
			}
			mu.Lock()
			all = append(all, mine...)
			mu.Unlock()
		}(st, c)
	}
	go func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
			if _, err := cli.AddDevice(ledger.Device{Serial: fmt.Sprintf("BENCH-CLI-%s-%05d", tag, i), Type: ledger.SSD}); err != nil {
				failed.Add(1)
				fmt.Fprintln(os.Stderr, "cli:", err)
			} else {
				cliWrites.Add(1)
			}
		}
	}()
	t1 := time.Now()
	wg.Wait()
	close(stop)
	elapsed := time.Since(t1)
	total := 0
	for st := 1; st <= stations; st++ {
		bd, err := s.Batch(fmt.Sprintf("BENCH-%s-%02d", tag, st))
		if err != nil {
			return err
		}
		seen := map[string]int{}
		for _, d := range bd.Devices {
			seen[d.Serial]++
		}
		for sn, n := range seen {
			if n != 1 {
				return fmt.Errorf("%s recorded %d times", sn, n)
			}
		}
		if len(bd.Disposals) != okScans[st] {
			return fmt.Errorf("station %d: %d scans accepted, %d recorded", st, okScans[st], len(bd.Disposals))
		}
		total += okScans[st]
	}
	fmt.Printf("%d stations for %s: %d scans (%.0f/s), each recorded exactly once; %d CLI writes meanwhile; "+
		"median %s, p99 %s, max %s; %d \"database is locked\", %d other failures\n",
		stations, elapsed.Round(time.Millisecond), total, float64(total)/elapsed.Seconds(), cliWrites.Load(),
		ms(pct(all, 0.5)), ms(pct(all, 0.99)), ms(pct(all, 1)), locked.Load(), failed.Load())
	if locked.Load() > 0 || failed.Load() > 0 {
		return fmt.Errorf("%d locked, %d failed", locked.Load(), failed.Load())
	}
	return nil
}
