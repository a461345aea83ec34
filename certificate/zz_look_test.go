package certificate

import (
	"os"
	"testing"

	"github.com/itad/itad/ledger"
)

func TestZZLook(t *testing.T) {
	dir := os.Getenv("LOOK")
	if dir == "" {
		t.Skip()
	}
	org := sampleDevice()
	org.Org = "Heddlu Dyfed-Powys Police Authority Information Management and Data Protection Directorate Headquarters"
	for name, d := range map[string]ledger.CertificateData{"deviceg": withAppG(sampleDevice(), fullAppG), "batch300": withAppG(longBatch(300), fullAppG), "longorg": org} {
		b, err := Render(sampleContent(d, testFP))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(dir+"/"+name+".pdf", b, 0o644)
	}
}
