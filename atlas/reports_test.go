package atlas

import (
	"bytes"
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/wufault/wufault/codes"
)

var updateReports = flag.Bool("update-reports", false, "rewrite docs/field-reports.md from atlas/field_reports.tsv")

func TestReportsDoc(t *testing.T) {
	reps, err := Reports()
	if err != nil {
		t.Fatal(err)
	}
	if len(reps) < 30 {
		t.Errorf("%d field reports, want at least 30", len(reps))
	}
	var b bytes.Buffer
	if err := WriteReportsMarkdown(&b, reps); err != nil {
		t.Fatal(err)
	}
	if *updateReports {
		if err := os.WriteFile("../docs/field-reports.md", b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile("../docs/field-reports.md")
	if err != nil || !bytes.Equal(got, b.Bytes()) {
		t.Errorf("docs/field-reports.md is not the rendering of field_reports.tsv (go test ./atlas -run TestReportsDoc -update-reports): %v", err)
	}
}

func TestParseReportsErrors(t *testing.T) {
	for _, bad := range []string{"id\tx\n", "id\tcondition\tfault\tclass\tgeneration\tstack\tcode\twindows\tproduct\tdate\turl\tquote\tnote\nFR1\tonly\n"} {
		if _, err := ParseReports(strings.NewReader(bad), "bad.tsv"); err == nil || !strings.Contains(err.Error(), "bad.tsv:") {
			t.Errorf("ParseReports(%q) = %v, want an error with file and line", bad, err)
		}
	}
}

// TestAttachShowsAgreementAndDisagreement: FR01 (a WSUS app pool answering
// 503, reported as 0x80244021) sits beside the http.status 503 scan cell
// and disagrees with its 0x80244022; FR14 (a 404 on content through BITS,
// 0x80244019) agrees with the legacy BITS download cell. The cells'
// codes stay what they are.
func TestAttachShowsAgreementAndDisagreement(t *testing.T) {
	reps, err := Reports()
	if err != nil {
		t.Fatal(err)
	}
	a := &Atlas{Cells: []Cell{
		{ID: "503", Kind: "http.status", Variant: "status=503", Class: "scan", Generation: "modern", Status: StatusFailed, Code: codes.MustParse("0x80244022")},
		{ID: "404", Kind: "http.status", Variant: "status=404", Class: "download", Generation: "legacy", Stack: "bits", Status: StatusFailed, Code: codes.MustParse("0x80244019")},
		{ID: "404do", Kind: "http.status", Variant: "status=404", Class: "download", Generation: "modern", Stack: "do", Status: StatusFailed, Code: codes.MustParse("0x80244019")},
	}}
	a.Attach(reps)
	find := func(c Cell, id string) *Match {
		for i := range c.Reports {
			if c.Reports[i].ID == id {
				return &c.Reports[i]
			}
		}
		return nil
	}
	if m := find(a.Cells[0], "FR01"); m == nil || m.Agree || !m.Comparable {
		t.Errorf("FR01 beside the 503 cell: %+v, want a disagreement", m)
	}
	if a.Cells[0].Code.Hex() != "0x80244022" {
		t.Errorf("attaching reports changed the cell's code to %s", a.Cells[0].Code)
	}
	if m := find(a.Cells[1], "FR14"); m == nil || !m.Agree {
		t.Errorf("FR14 beside the 404 BITS cell: %+v, want agreement", m)
	}
	if m := find(a.Cells[2], "FR14"); m != nil {
		t.Errorf("FR14 (BITS) matched a DO cell: %+v", m)
	}
}
