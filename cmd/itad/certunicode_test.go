package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestCLI_CertUnicode: certificates print Welsh, Polish, Greek and
// Cyrillic text as it is (embedded Go fonts), name their files with the
// serial's letters, pass pdfsig and qpdf. Set ITAD_CERT_PNG=DIR to keep PNGs of the
// pages to look at.
func TestCLI_CertUnicode(t *testing.T) {
	dir := t.TempDir()
	db, out := filepath.Join(dir, "itad.db"), filepath.Join(dir, "out")
	mustItad(t, db, "init", "--org", "Heddlu Dyfed-Powys — Gwasanaeth Tŷ Gwŷn", "--media-destination", "ailgylchu — recycling, Llŷn Depot")
	mustItad(t, db, "contractor", "add", "Łukasz Żółć Recykling Sp. z o.o.", "--accreditations", "ADISA", "--contract", "UM-2024/ŁŻ")
	csv := "serial,asset_tag,type,make,model,capacity_gb,site,method,standard,tool,verified,contractor,disposed_on,weight_kg,batch,operator,witness,notes\n" +
		"ΑΒΓ-0042,ΕΛ-7,hdd,Σκληρός,Δίσκος Ω-1,4000,Αθήνα,shred,DIN 66399 H-5,,yes,Łukasz Żółć Recykling Sp. z o.o.,2024-05-02,0.6,,Łukasz Żółć,Αλέξανδρος Παπαδόπουλος,Θρυμματίστηκε επί τόπου\n" +
		"СЕРИЯ-7,ИН-12,ssd,Сигейт,Накопитель Ж-3,960,Москва,shred,DIN 66399 H-5,,yes,Łukasz Żółć Recykling Sp. z o.o.,2024-05-03,0.05,РЕЙС-1,Дмитрий Шостакович,Gwenllïan ap Llŷr,\n"
	path := filepath.Join(dir, "u.csv")
	if err := os.WriteFile(path, []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	mustItad(t, db, "import", path)
	mustItad(t, db, "batch", "close", "РЕЙС-1")
	mustItad(t, db, "key", "init")
	f := certFixture{dir: dir, db: db, out: out}
	os.Mkdir(out, 0o755)
	certs := []struct{ name, file string }{}
	for _, args := range [][]string{{"ΑΒΓ-0042"}, {"СЕРИЯ-7"}, {"--batch", "РЕЙС-1"}} {
		number, p := f.issue(t, args...)
		want := map[string]string{"ΑΒΓ-0042": "_ΑΒΓ-0042.pdf", "СЕРИЯ-7": "_СЕРИЯ-7.pdf", "--batch": "_РЕЙС-1.pdf"}[args[0]]
		if filepath.Base(p) != number+want {
			t.Errorf("file %s, want %s%s", filepath.Base(p), number, want)
		}
		certs = append(certs, struct{ name, file string }{map[string]string{"ΑΒΓ-0042": "greek", "СЕРИЯ-7": "cyrillic", "--batch": "batch"}[args[0]], p})
	}
	for _, c := range certs {
		t.Run(c.name, func(t *testing.T) {
			if ok, o := pdfsigOK(t, c.file); !ok {
				t.Fatalf("pdfsig:\n%s", o)
			}
			requireTool(t, "qpdf")
			if o, err := toolOutput(t, "qpdf", "--check", c.file); err != nil {
				t.Fatalf("qpdf --check: %v\n%s", err, o)
			}
			requireTool(t, "pdftotext")
			text, err := exec.Command("pdftotext", "-layout", c.file, "-").Output()
			if err != nil {
				t.Fatal(err)
			}
			// (A one-device batch certificate on one page is the layout's
			// business: keeping the signature blocks together.)
			for _, want := range []string{"Heddlu Dyfed-Powys — Gwasanaeth Tŷ Gwŷn", "Łukasz Żółć Recykling"} {
				if !strings.Contains(string(text), want) {
					t.Errorf("text lacks %q", want)
				}
			}
			if strings.Contains(string(text), "?") && !strings.Contains(string(text), "?h=") {
				t.Errorf("text has a '?' (a character the font could not print?)")
			}
			// One space between words: pdftotext's spacing varies with
			// the width of the (masked) number in a proportional font.
			golden(t, "cert/unicode-"+c.name+".txt", oneSpace.ReplaceAllString(maskText(string(text)), " "))
			if out := mustItad(t, db, "cert", "verify", c.file); !strings.Contains(out, "valid certificate") {
				t.Errorf("verify: %s", out)
			}
			if keep := os.Getenv("ITAD_CERT_PNG"); keep != "" {
				requireTool(t, "pdftoppm")
				if o, err := toolOutput(t, "pdftoppm", "-png", "-r", "80", c.file, filepath.Join(keep, c.name)); err != nil {
					t.Fatalf("pdftoppm: %v\n%s", err, o)
				}
			}
		})
	}
}

var oneSpace = regexp.MustCompile(` +`)
