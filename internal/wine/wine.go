package wine

import (
	"bytes"
	"context"
	"crypto/sha1" // the registry names a certificate by its SHA-1 thumbprint
	"crypto/x509"
	"embed"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/wufault/wufault/client/winagent"
)

//go:embed processprng/processprng.c processprng/processprng.def
var shimSource embed.FS

// AgentPackage is the import path of the Windows agent, built with
// GOOS=windows when Options.Agent is empty.
const AgentPackage = "github.com/wufault/wufault/cmd/wufault-agent"

// ErrMissing is returned by Find and Start when wine64 or mingw is not
// installed; its text says what to install.
var ErrMissing = errors.New("wine64 and mingw are needed: apt-get install -y wine64 gcc-mingw-w64-x86-64")

// Tools are the programs a prefix needs.
type Tools struct {
	Wine       string // wine64 (or wine)
	WineServer string
	GCC        string // x86_64-w64-mingw32-gcc, for the ProcessPrng shim
}

// Find locates wine64, wineserver and mingw; it returns ErrMissing
// (wrapped, naming what is absent) when one is not installed.
func Find() (Tools, error) {
	var t Tools
	for _, c := range []string{"wine64", "/usr/lib/wine/wine64", "/usr/lib64/wine/wine64", "wine"} {
		if p, err := exec.LookPath(c); err == nil {
			t.Wine = p
			break
		}
	}
	for _, c := range []string{"wineserver", filepath.Join(filepath.Dir(t.Wine), "wineserver"), "/usr/lib/wine/wineserver64", "/usr/lib/wine/wineserver"} {
		if p, err := exec.LookPath(c); err == nil && t.Wine != "" {
			t.WineServer = p
			break
		}
	}
	t.GCC, _ = exec.LookPath("x86_64-w64-mingw32-gcc")
	var missing []string
	if t.Wine == "" {
		missing = append(missing, "wine64")
	}
	if t.Wine != "" && t.WineServer == "" {
		missing = append(missing, "wineserver")
	}
	if t.GCC == "" {
		missing = append(missing, "x86_64-w64-mingw32-gcc")
	}
	if len(missing) > 0 {
		return t, fmt.Errorf("%s not found: %w", strings.Join(missing, ", "), ErrMissing)
	}
	return t, nil
}

// Options configure Start.
type Options struct {
	// Dir holds the prefix, the agent and the shim (required; the caller
	// removes it).
	Dir string
	// Agent is a wufault-agent.exe built for windows/amd64. Empty: Start
	// builds AgentPackage with the go command, which works inside the
	// module's source tree.
	Agent string
	// Resolver, if set, is the nameserver address Wine's name lookups are
	// sent to (port 53), through a private mount namespace whose
	// /etc/resolv.conf names it; where unshare cannot do that (Isolated
	// reports false), Wine asks the host's resolver.
	Resolver string
}

// Env is a private Wine prefix (win64) with the Windows agent built and
// the ProcessPrng shim installed, and its wineserver kept running until
// Close.
type Env struct {
	Tools
	Agent  string
	Prefix string
	env    []string
	resolv string
	nsOK   bool
}

// Start builds the agent (unless given) and the shim, boots a private
// prefix, installs the shim into its system32 and starts a persistent
// wineserver, so that each later program starts without a prefix boot.
func Start(ctx context.Context, o Options) (*Env, error) {
	t, err := Find()
	if err != nil {
		return nil, err
	}
	if o.Dir == "" {
		return nil, errors.New("wine: no directory for the prefix")
	}
	e := &Env{Tools: t, Agent: o.Agent, Prefix: filepath.Join(o.Dir, "prefix")}
	if e.Agent == "" {
		e.Agent = filepath.Join(o.Dir, "wufault-agent.exe")
		gobin, err := exec.LookPath("go")
		if err != nil {
			return nil, fmt.Errorf("wine: no go command to build the agent (give a built wufault-agent.exe): %w", err)
		}
		build := exec.CommandContext(ctx, gobin, "build", "-o", e.Agent, AgentPackage)
		build.Env = append(os.Environ(), "GOOS=windows", "GOARCH=amd64", "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("wine: build the agent for Windows (outside the module's source, give a built wufault-agent.exe): %w\n%s", err, out)
		}
	}
	// Go >= 1.24 imports bcryptprimitives.dll!ProcessPrng, which Wine 8
	// lacks: a one-function shim built with mingw.
	src := filepath.Join(o.Dir, "processprng")
	if err := os.MkdirAll(src, 0o755); err != nil {
		return nil, fmt.Errorf("wine: %w", err)
	}
	for _, f := range []string{"processprng.c", "processprng.def"} {
		b, _ := shimSource.ReadFile("processprng/" + f)
		if err := os.WriteFile(filepath.Join(src, f), b, 0o644); err != nil {
			return nil, fmt.Errorf("wine: %w", err)
		}
	}
	shim := filepath.Join(o.Dir, "bcryptprimitives.dll")
	cc := exec.CommandContext(ctx, t.GCC, "-shared", "-O2", "-o", shim, filepath.Join(src, "processprng.c"), filepath.Join(src, "processprng.def"), "-ladvapi32")
	if out, err := cc.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("wine: build the ProcessPrng shim: %w\n%s", err, out)
	}
	e.env = append(os.Environ(),
		"WINEPREFIX="+e.Prefix, "WINEDEBUG=-all", "WINEARCH=win64",
		// No Mono/Gecko installer dialogs; the shim wins over any builtin.
		"WINEDLLOVERRIDES=mscoree,mshtml=;bcryptprimitives=n,b",
		"DISPLAY=", "WAYLAND_DISPLAY=",
	)
	if o.Resolver != "" {
		e.resolv = filepath.Join(o.Dir, "resolv.conf")
		conf := fmt.Sprintf("nameserver %s\noptions timeout:1 attempts:1\n", o.Resolver)
		if err := os.WriteFile(e.resolv, []byte(conf), 0o644); err != nil {
			return nil, fmt.Errorf("wine: %w", err)
		}
		if exec.Command("unshare", "-m", "sh", "-c", `mount --bind "$0" /etc/resolv.conf`, e.resolv).Run() == nil {
			e.nsOK = true
		}
	}
	// The wineserver runs for as long as the Env: every program after
	// wineboot starts in about a second instead of booting the prefix.
	if err := os.MkdirAll(e.Prefix, 0o755); err != nil {
		return nil, fmt.Errorf("wine: %w", err)
	}
	srv := exec.CommandContext(ctx, t.WineServer, "-p")
	srv.Env = e.env
	if err := srv.Run(); err != nil { // it forks into the background
		return nil, fmt.Errorf("wine: wineserver -p: %w", err)
	}
	if out, _, err := e.Run(e.Command(ctx, "wineboot", "-i")); err != nil {
		e.Close()
		return nil, fmt.Errorf("wine: wineboot -i: %w\n%s", err, out)
	}
	b, err := os.ReadFile(shim)
	if err == nil {
		err = os.WriteFile(filepath.Join(e.Prefix, "drive_c", "windows", "system32", "bcryptprimitives.dll"), b, 0o644)
	}
	if err != nil {
		e.Close()
		return nil, fmt.Errorf("wine: install the shim: %w", err)
	}
	return e, nil
}

// Isolated reports whether Wine's name lookups go to Options.Resolver
// (a private mount namespace could be made).
func (e *Env) Isolated() bool { return e.nsOK }

// Command runs a Wine program (a Windows path or one of Wine's own), in
// the private mount namespace when there is one.
func (e *Env) Command(ctx context.Context, args ...string) *exec.Cmd {
	var c *exec.Cmd
	if e.nsOK {
		c = exec.CommandContext(ctx, "unshare", append([]string{"-m", "sh", "-c", `mount --bind "$0" /etc/resolv.conf && exec "$@"`, e.resolv, e.Wine}, args...)...)
	} else {
		c = exec.CommandContext(ctx, e.Wine, args...)
	}
	c.Env = e.env
	return c
}

// Run runs cmd with its output in files, not pipes: the programs Wine
// starts beside the first one (services, winedevice) inherit the
// descriptors and live as long as the persistent wineserver, so a pipe
// would never reach its end.
func (e *Env) Run(cmd *exec.Cmd) (stdout, stderr []byte, err error) {
	var files [2]*os.File
	for i := range files {
		f, err := os.CreateTemp(filepath.Dir(e.Prefix), "out-*")
		if err != nil {
			return nil, nil, fmt.Errorf("wine: %w", err)
		}
		defer os.Remove(f.Name())
		defer f.Close()
		files[i] = f
	}
	cmd.Stdout, cmd.Stderr = files[0], files[1]
	cmd.WaitDelay = 5 * time.Second
	err = cmd.Run()
	stdout, _ = os.ReadFile(files[0].Name())
	stderr, _ = os.ReadFile(files[1].Name())
	return stdout, stderr, err
}

// Output is the agent's JSON answer.
type Output struct {
	Host   string                 `json:"host"`
	Probes []winagent.ProbeResult `json:"probes,omitempty"`
	Scan   *winagent.ScanResult   `json:"scan,omitempty"`
}

// RunAgent runs the agent with args (--json is added) and decodes its
// answer.
func (e *Env) RunAgent(ctx context.Context, args ...string) (*Output, error) {
	out, stderr, err := e.Run(e.Command(ctx, append([]string{e.Agent, "--json"}, args...)...))
	if err != nil {
		return nil, fmt.Errorf("wine: agent %s: %w: %s", strings.Join(args, " "), err, bytes.TrimSpace(stderr))
	}
	var o Output
	if err := json.Unmarshal(out, &o); err != nil {
		return nil, fmt.Errorf("wine: agent output: %w: %.200s", err, out)
	}
	return &o, nil
}

// TrustRoot adds certificates to the prefix's machine Root store (the
// registry key Wine's crypt32 reads, as certutil -addstore Root would on
// Windows), so Wine's WinHTTP accepts the chains they issue.
func (e *Env) TrustRoot(ctx context.Context, certs ...*x509.Certificate) error {
	var reg strings.Builder
	reg.WriteString("REGEDIT4\n\n")
	for _, c := range certs {
		// A serialized certificate: one property header (CERT_CERT_PROP_ID
		// 32, a reserved 1, the length) followed by the DER encoding.
		blob := make([]byte, 12, 12+len(c.Raw))
		binary.LittleEndian.PutUint32(blob[0:], 32)
		binary.LittleEndian.PutUint32(blob[4:], 1)
		binary.LittleEndian.PutUint32(blob[8:], uint32(len(c.Raw)))
		blob = append(blob, c.Raw...)
		fmt.Fprintf(&reg, "[HKEY_LOCAL_MACHINE\\Software\\Microsoft\\SystemCertificates\\Root\\Certificates\\%X]\n\"Blob\"=hex:", sha1.Sum(c.Raw))
		for i, b := range blob {
			if i > 0 {
				reg.WriteByte(',')
			}
			fmt.Fprintf(&reg, "%02x", b)
		}
		reg.WriteString("\n\n")
	}
	f := filepath.Join(e.Prefix, "drive_c", "wufault-roots.reg")
	if err := os.WriteFile(f, []byte(reg.String()), 0o644); err != nil {
		return fmt.Errorf("wine: %w", err)
	}
	if out, _, err := e.Run(e.Command(ctx, "regedit", "/S", `C:\wufault-roots.reg`)); err != nil {
		return fmt.Errorf("wine: import the lab roots: %w\n%s", err, out)
	}
	return nil
}

// Close ends the prefix's wineserver and every program still running in
// it.
func (e *Env) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	k := exec.CommandContext(ctx, e.WineServer, "-k")
	k.Env = e.env
	if err := k.Run(); err != nil {
		return fmt.Errorf("wine: wineserver -k: %w", err)
	}
	return nil
}
