package buildinfo

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

// Info is what the binary says of its build.
type Info struct {
	Program  string `json:"program"`
	Version  string `json:"version"`            // module version, "(devel)" for a build from a checkout
	Revision string `json:"revision,omitempty"` // VCS revision (vcs.revision)
	Time     string `json:"time,omitempty"`     // commit time (vcs.time)
	Modified bool   `json:"modified,omitempty"` // the work tree had changes (vcs.modified)
	Go       string `json:"go"`                 // toolchain
	Platform string `json:"platform"`           // GOOS/GOARCH
}

// Read returns the running binary's build information.
func Read(program string) Info {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return Info{Program: program, Version: "(unknown)", Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	}
	return From(program, bi)
}

// From extracts the Info of a build from its debug.BuildInfo.
func From(program string, bi *debug.BuildInfo) Info {
	i := Info{Program: program, Version: bi.Main.Version, Go: bi.GoVersion, Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if i.Version == "" {
		i.Version = "(devel)"
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			i.Revision = s.Value
		case "vcs.time":
			i.Time = s.Value
		case "vcs.modified":
			i.Modified = s.Value == "true"
		case "GOOS":
			i.Platform = s.Value + i.Platform[strings.Index(i.Platform, "/"):]
		case "GOARCH":
			i.Platform = i.Platform[:strings.Index(i.Platform, "/")+1] + s.Value
		}
	}
	return i
}

// String is the one line --version prints:
// "wufault v1.2.0 (revision 0123456789ab, 2026-12-01T10:00:00Z) go1.26.8 linux/amd64".
func (i Info) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", i.Program, i.Version)
	if i.Revision != "" {
		rev := i.Revision
		if len(rev) > 12 {
			rev = rev[:12]
		}
		fmt.Fprintf(&b, " (revision %s", rev)
		if i.Time != "" {
			fmt.Fprintf(&b, ", %s", i.Time)
		}
		if i.Modified {
			b.WriteString(", modified")
		}
		b.WriteString(")")
	}
	fmt.Fprintf(&b, " %s %s", i.Go, i.Platform)
	return b.String()
}
