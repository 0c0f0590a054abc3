package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestAtlasCommand(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "a.json")
	_, errs, status := runCmd(t, "--state-dir", dir, "atlas", "--kind", "http.status", "--class", "scan", "--generation", "modern", "--format", "json", "--out", out)
	if status != 0 {
		t.Fatalf("status %d: %s", status, errs)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var a struct {
		Cells []struct {
			Kind, Class, Generation, Status, Rule, Confidence, Source string
			Code                                                      string
		} `json:"cells"`
	}
	if err := json.Unmarshal(b, &a); err != nil {
		t.Fatal(err)
	}
	if len(a.Cells) != 16 {
		t.Fatalf("%d cells, want the 16 statuses", len(a.Cells))
	}
	for _, c := range a.Cells {
		if c.Kind != "http.status" || c.Class != "scan" || c.Generation != "modern" {
			t.Errorf("filters not applied: %+v", c)
		}
		if c.Status == "failed" && (c.Rule == "" || c.Confidence == "" || c.Source == "") {
			t.Errorf("failed cell without rule, confidence or source: %+v", c)
		}
	}
	// merge of one shard file gives the same cells
	mo, _, status := runCmd(t, "atlas", "merge", out, "--format", "markdown")
	if status != 0 || !strings.Contains(mo, "| `http.status` | status=404 | scan | modern | - | 0x80244019 |") {
		t.Errorf("merge: status %d\n%s", status, mo)
	}
	for _, bad := range [][]string{{"atlas", "--class", "nope"}, {"atlas", "--kind", "nope.kind"}, {"atlas", "--shard", "4/4"}} {
		if _, errs, status := runCmd(t, bad...); status == 0 {
			t.Errorf("%v accepted: %s", bad, errs)
		}
	}
}

// TestAtlasJobManifest: the Indexed Job under docs/ runs one shard per
// completion index with as many shards as completions, and merges need
// nothing else.
func TestAtlasJobManifest(t *testing.T) {
	b, err := os.ReadFile("../../docs/atlas-job.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var job struct {
		Kind string
		Spec struct {
			CompletionMode string `yaml:"completionMode"`
			Completions    int
			Template       struct {
				Spec struct {
					Containers []struct {
						Args []string
					}
				}
			}
		}
	}
	if err := yaml.Unmarshal(b, &job); err != nil {
		t.Fatal(err)
	}
	if job.Kind != "Job" || job.Spec.CompletionMode != "Indexed" || len(job.Spec.Template.Spec.Containers) != 1 {
		t.Fatalf("not an Indexed Job with one container: %+v", job)
	}
	args := strings.Join(job.Spec.Template.Spec.Containers[0].Args, " ")
	m := regexp.MustCompile(`--shard "\$\{JOB_COMPLETION_INDEX\}/(\d+)"`).FindStringSubmatch(args)
	if m == nil || m[1] != strconv.Itoa(job.Spec.Completions) {
		t.Errorf("shard count %v does not match completions %d: %s", m, job.Spec.Completions, args)
	}
	for _, w := range []string{"wufault atlas", "--format json", "--out"} {
		if !strings.Contains(args, w) {
			t.Errorf("args lack %q: %s", w, args)
		}
	}
}
