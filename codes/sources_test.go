package codes

import (
	"bufio"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// notTags are bracketed words in the repository that are not evidence
// tags: a DNS query type in a comment, usage placeholders, regexp classes.
var notTags = map[string]bool{"A": true, "T": true, "TAG": true}

var anyTag = regexp.MustCompile(`\[([A-Z][A-Z0-9.-]*)\]`)

// bibliography parses docs/sources.md: each "### TAG" heading and the
// fields listed under it.
func bibliography(t *testing.T) map[string]map[string]string {
	t.Helper()
	f, err := os.Open("../docs/sources.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]map[string]string{}
	var cur map[string]string
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if tag, ok := strings.CutPrefix(line, "### "); ok {
			if out[tag] != nil {
				t.Errorf("docs/sources.md:%d: %s listed twice", n, tag)
			}
			cur = map[string]string{}
			out[tag] = cur
			continue
		}
		if strings.HasPrefix(line, "## ") {
			cur = nil
		}
		if k, v, ok := strings.Cut(strings.TrimPrefix(line, "- "), ": "); ok && cur != nil && strings.HasPrefix(line, "- ") {
			cur[k] = strings.TrimSpace(v)
		}
	}
	return out
}

// TestBibliographyCoversEveryTag walks the repository's code, catalogs
// and docs for evidence tags and requires an entry in docs/sources.md for
// each, with title, publisher, URL, date and what it establishes.
func TestBibliographyCoversEveryTag(t *testing.T) {
	bib := bibliography(t)
	for tag, f := range bib {
		for _, k := range []string{"Title", "Publisher", "URL", "Date", "Establishes"} {
			if f[k] == "" {
				t.Errorf("docs/sources.md: %s has no %s", tag, k)
			}
		}
		if !strings.HasPrefix(f["URL"], "<http") {
			t.Errorf("docs/sources.md: %s: URL %q is not a link", tag, f["URL"])
		}
		if SourceAnchor(tag) == "" {
			t.Errorf("%s has no anchor", tag)
		}
	}
	used := map[string]string{}
	err := filepath.WalkDir("..", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); n == ".git" || n == "testdata" || n == "node_modules" {
				return filepath.SkipDir
			}
			return nil
		}
		ext := filepath.Ext(p)
		if strings.HasSuffix(p, "_test.go") || p == filepath.Join("..", "docs", "sources.md") ||
			(ext != ".go" && ext != ".yaml" && ext != ".tsv" && ext != ".md" && ext != ".json") {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for i, line := range strings.Split(string(b), "\n") {
			for _, m := range anyTag.FindAllStringSubmatch(line, -1) {
				tag := m[1]
				if notTags[tag] || strings.HasSuffix(tag, "...") || strings.HasPrefix(tag, "A-Z") {
					continue
				}
				if _, ok := used[tag]; !ok {
					used[tag] = p + ":" + strconv.Itoa(i+1)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(used) < 40 {
		t.Fatalf("found only %d tags in the repository: the walk is broken", len(used))
	}
	for tag, where := range used {
		if bib[tag] == nil {
			t.Errorf("%s: source tag [%s] has no entry in docs/sources.md", where, tag)
		}
	}
	for _, in := range All() {
		for _, tag := range SourceTags(in.Source) {
			if bib[tag] == nil {
				t.Errorf("code %s: source tag [%s] has no entry in docs/sources.md", in.Code, tag)
			}
		}
	}
}
