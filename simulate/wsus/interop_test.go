package wsus

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// lookTool returns the path of an external oracle or skips the test. CI installs
// both (apt-get install -y cabextract gcab); a developer machine may not have them.
func lookTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s not installed (apt-get install -y cabextract gcab): CAB interop not checked here", name)
	}
	return p
}

func runTool(t *testing.T, dir, tool string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, tool, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(tool), strings.Join(args, " "), err, out)
	}
	return string(out)
}

// interopCabs returns the cabinets the server really serves plus edge cases of
// the writer, written to dir.
func interopCabs(t *testing.T, dir string) map[string][]CABFile {
	t.Helper()
	s := newTestServer(t, Options{Updates: new(2), ContentSize: 100_000})
	cabs := map[string][]byte{
		"wuident.cab": s.wuident.data,
		"wuredir.cab": s.wuredirCAB("http://wsus.lab:8530"),
	}
	for key, b := range s.metadata {
		cabs["metadata-"+key[:8]+".cab"] = b.data
	}
	for i, u := range s.Catalog() {
		for _, f := range u.Files {
			cabs["content"+string(rune('0'+i))+".cab"] = s.content[contentKey(f.SHA1)].data
		}
	}
	mod := time.Date(2024, 1, 2, 3, 4, 6, 0, time.UTC)
	edge := map[string][]CABFile{
		"edge-empty.cab":  {{Name: "empty.txt", ModTime: mod}},
		"edge-multi.cab":  {{Name: "a.txt", Data: bytes.Repeat([]byte("a"), cabBlockSize-1), ModTime: mod}, {Name: `sub\b.txt`, Data: []byte("bb\n"), ModTime: mod}},
		"edge-blocks.cab": {{Name: "blocks.bin", Data: bytes.Repeat([]byte{0, 1, 2, 3, 4, 5, 6}, 3*cabBlockSize/7+5), ModTime: mod}},
	}
	want := map[string][]CABFile{}
	for name, files := range edge {
		var buf bytes.Buffer
		if err := WriteCAB(&buf, files); err != nil {
			t.Fatal(err)
		}
		cabs[name] = buf.Bytes()
	}
	for name, b := range cabs {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
		files, err := readCAB(b)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		want[name] = files
	}
	return want
}

// checkExtracted compares what a tool extracted under dir with the files
// written into the cabinet.
func checkExtracted(t *testing.T, dir string, files []CABFile) {
	t.Helper()
	for _, f := range files {
		got, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(strings.ReplaceAll(f.Name, `\`, "/"))))
		if err != nil {
			t.Fatalf("extracted %s: %v", f.Name, err)
		}
		if !bytes.Equal(got, f.Data) {
			t.Errorf("extracted %s: %d bytes differ from the %d written", f.Name, len(got), len(f.Data))
		}
	}
}

// TestCABInteropCabextract checks every cabinet with libmspack: `cabextract -t`
// verifies the structure and each CFDATA checksum, then a real extraction must
// give back the exact bytes.
func TestCABInteropCabextract(t *testing.T) {
	tool := lookTool(t, "cabextract")
	dir := t.TempDir()
	for name, files := range interopCabs(t, dir) {
		t.Run(name, func(t *testing.T) {
			out := runTool(t, dir, tool, "-t", name)
			if !strings.Contains(out, "All done, no errors") {
				t.Fatalf("cabextract -t %s:\n%s", name, out)
			}
			outDir := filepath.Join(dir, "x-"+name)
			runTool(t, dir, tool, "-q", "-d", outDir, name)
			checkExtracted(t, outDir, files)
		})
	}
}

// TestCABInteropGcab lists every cabinet with gcab (libgcab), an independent
// implementation, and extracts it.
func TestCABInteropGcab(t *testing.T) {
	tool := lookTool(t, "gcab")
	dir := t.TempDir()
	for name, files := range interopCabs(t, dir) {
		t.Run(name, func(t *testing.T) {
			out := runTool(t, dir, tool, "-l", name)
			for _, f := range files {
				if !strings.Contains(out, strings.ReplaceAll(f.Name, `\`, "/")) && !strings.Contains(out, f.Name) {
					t.Errorf("gcab -l %s does not list %q:\n%s", name, f.Name, out)
				}
			}
			outDir := filepath.Join(dir, "g-"+name)
			if err := os.Mkdir(outDir, 0o700); err != nil {
				t.Fatal(err)
			}
			runTool(t, outDir, tool, "-x", filepath.Join("..", name))
			checkExtracted(t, outDir, files)
		})
	}
}
