package release

import (
	"context"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// The Dockerfile's contract, checked without an engine: multi-stage, a
// static build, a non-root user, serve's default ports exposed.
func TestDockerfileContract(t *testing.T) {
	b, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	df := string(b)
	if n := len(regexp.MustCompile(`(?m)^FROM `).FindAllString(df, -1)); n < 2 {
		t.Errorf("%d FROM lines: want a multi-stage build", n)
	}
	if !strings.Contains(df, "CGO_ENABLED=0") {
		t.Error("the binary is not built static (CGO_ENABLED=0)")
	}
	user := regexp.MustCompile(`(?m)^USER\s+(\S+)`).FindStringSubmatch(df)
	if user == nil || strings.HasPrefix(user[1], "0") || strings.HasPrefix(user[1], "root") {
		t.Errorf("USER %v: want a non-root user", user)
	}
	var exposed []string
	for _, m := range regexp.MustCompile(`(?m)^EXPOSE\s+(.*)$`).FindAllStringSubmatch(df, -1) {
		exposed = append(exposed, strings.Fields(m[1])...)
	}
	// serve's defaults (cmd/wufault/serve.go): proxy 8080, DNS 1053,
	// emulator 8530/8531, control 8081.
	for _, p := range []string{"8080/tcp", "1053/udp", "1053/tcp", "8530/tcp", "8531/tcp", "8081/tcp"} {
		if !slices.Contains(exposed, p) {
			t.Errorf("EXPOSE lacks %s (has %v)", p, exposed)
		}
	}
	serve, err := os.ReadFile("../../cmd/wufault/serve.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, port := range []string{"127.0.0.1:8080", "127.0.0.1:1053", "127.0.0.1:8530", "127.0.0.1:8531", "127.0.0.1:8081"} {
		if !strings.Contains(string(serve), `"`+port+`"`) {
			t.Errorf("serve's defaults changed (%s gone): update the Dockerfile's EXPOSE and this test", port)
		}
	}
}

// engine returns the container engine that answers, or skips.
func engine(t *testing.T) string {
	t.Helper()
	for _, e := range []string{"docker", "podman"} {
		if _, err := exec.LookPath(e); err != nil {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		err := exec.CommandContext(ctx, e, "version", "--format", "{{.Server.Version}}").Run()
		cancel()
		if err == nil {
			return e
		}
	}
	t.Skip("no container engine runs here (docker or podman with a reachable daemon): the image build is not tested")
	return ""
}

// The image builds, runs as a non-root user and answers version.
func TestDockerBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a container image")
	}
	e := engine(t)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	tag := "wufault-test:" + time.Now().Format("20060102150405")
	if out, err := exec.CommandContext(ctx, e, "build", "-t", tag, "../..").CombinedOutput(); err != nil {
		t.Fatalf("%s build: %v\n%s", e, err, out)
	}
	defer exec.Command(e, "rmi", "-f", tag).Run()
	out, err := exec.CommandContext(ctx, e, "run", "--rm", tag, "version").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "wufault ") {
		t.Errorf("run version: %v\n%s", err, out)
	}
	out, err = exec.CommandContext(ctx, e, "image", "inspect", "--format", "{{.Config.User}}", tag).Output()
	if err != nil || strings.TrimSpace(string(out)) == "" || strings.HasPrefix(strings.TrimSpace(string(out)), "0") {
		t.Errorf("image user %q (%v): want non-root", out, err)
	}
}
