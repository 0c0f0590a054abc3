package ctl

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/wufault/wufault/internal/worldtest"
	"github.com/wufault/wufault/simulate"
)

// TestClientAgainstWorld drives a real world's control API: a catalog
// scenario, a broken YAML one (400, problems named, nothing changed), a
// wrong token, and a followed journal that sees a DNS fault fire.
func TestClientAgainstWorld(t *testing.T) {
	w := worldtest.Start(t, worldtest.DNS(), worldtest.Control("s3cret"))
	ctx := context.Background()
	bad, _ := New(w.Addrs().Control, "wrong")
	var ae *APIError
	if _, err := bad.Scenario(ctx); !errors.As(err, &ae) || ae.Status != http.StatusUnauthorized {
		t.Fatalf("wrong token: %v", err)
	}
	c, err := New("http://"+w.Addrs().Control+"/", "s3cret")
	if err != nil {
		t.Fatal(err)
	}
	v, err := c.UseScenario(ctx, "dns-nxdomain-scan")
	if err != nil || v.Name != "dns-nxdomain-scan" || len(v.Faults) != 1 {
		t.Fatalf("UseScenario: %+v %v", v, err)
	}
	if _, err := c.UseScenario(ctx, "no-such-scenario"); !errors.As(err, &ae) || ae.Status != http.StatusNotFound || !strings.Contains(ae.Message, "no-such-scenario") {
		t.Errorf("unknown scenario: %v", err)
	}
	if _, err := c.UseScenarioYAML(ctx, []byte("name: x\nfaults:\n  - kind: dns.bogus\n")); !errors.As(err, &ae) || ae.Status != http.StatusBadRequest || len(ae.Problems) == 0 {
		t.Errorf("broken scenario: %v", err)
	}
	if v, _ := c.Scenario(ctx); v.Name != "dns-nxdomain-scan" {
		t.Errorf("a refused scenario changed the active one: %q", v.Name)
	}
	ix, err := c.Index(ctx)
	if err != nil || len(ix.Endpoints) == 0 {
		t.Errorf("Index: %+v %v", ix, err)
	}

	fctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	got := make(chan simulate.Event, 1)
	done := make(chan error, 1)
	go func() {
		done <- c.Follow(fctx, JournalQuery{Event: simulate.EventFault}, func(e simulate.Event) error {
			got <- e
			cancel()
			return nil
		})
	}()
	// The stream is open once a request fired after it shows up: keep
	// asking until one does.
	m := new(dns.Msg)
	m.SetQuestion("wsus.lab.", dns.TypeA)
	var e simulate.Event
wait:
	for {
		if _, _, err := (&dns.Client{Timeout: time.Second}).Exchange(m, w.Addrs().DNS); err != nil {
			t.Fatal(err)
		}
		select {
		case e = <-got:
			break wait
		case <-time.After(100 * time.Millisecond):
		case <-fctx.Done():
			select {
			case e = <-got:
				break wait
			default:
				t.Fatal("no fault followed")
			}
		}
	}
	if e.Fault != "dns.nxdomain" || e.Host != "wsus.lab" || e.Scenario != "dns-nxdomain-scan" {
		t.Errorf("followed %+v", e)
	}
	if err := <-done; err != nil {
		t.Errorf("Follow: %v", err)
	}
	evs, err := c.Journal(ctx, JournalQuery{Event: simulate.EventScenario})
	if err != nil || len(evs) == 0 || evs[len(evs)-1].Scenario != "dns-nxdomain-scan" {
		t.Errorf("Journal: %+v %v", evs, err)
	}
}
