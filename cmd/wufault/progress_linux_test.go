package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wufault/wufault/verify"
)

// openPTY opens a pseudo-terminal pair: what the process writes to the
// second file, a terminal, can be read back from the first.
func openPTY(t *testing.T) (master, tty *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Skipf("unlock pseudo-terminal: %v", err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Skipf("pseudo-terminal number: %v", err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("open pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return m, s
}

// TestProgressOnlyOnATerminal: the progress bar is drawn on a terminal
// and never on a buffer, a file or a pipe (CI logs, --out redirections).
func TestProgressOnlyOnATerminal(t *testing.T) {
	file, err := os.Create(filepath.Join(t.TempDir(), "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	for name, stderr := range map[string]io.Writer{"buffer": &bytes.Buffer{}, "file": file, "pipe": w} {
		a := &app{stderr: stderr}
		if a.progress() != nil {
			t.Errorf("%s: a progress bar on a non-terminal", name)
		}
	}

	master, tty := openPTY(t)
	a := &app{stderr: tty}
	progress := a.progress()
	if progress == nil {
		t.Fatal("no progress bar on a terminal")
	}
	progress(1, 2, verify.Result{Scenario: "dns-nxdomain-scan"})
	progress(2, 2, verify.Result{Scenario: "healthy-lab"})
	want := "\r\033[K[" + strings.Repeat("=", 15) + strings.Repeat(" ", 15) + "] 1/2 dns-nxdomain-scan" +
		"\r\033[K[" + strings.Repeat("=", 30) + "] 2/2 healthy-lab" + "\r\033[K"
	got := make([]byte, 0, len(want))
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 256)
		for len(got) < len(want) {
			n, err := master.Read(buf)
			got = append(got, buf[:n]...)
			if err != nil {
				return
			}
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		master.Close() // unblocks the reader
		<-done
	}
	if string(got) != want {
		t.Errorf("terminal got %q\nwant %q", got, want)
	}
}
