package simulate

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/wufault/wufault/client/profile"
	"github.com/wufault/wufault/faults"
)

// fuzzSpecs arm one rule of every dns.* kind on names the seeds use, plus
// selectors, so the fuzzer reaches each hook.
func fuzzSpecs() []faults.Spec {
	return []faults.Spec{
		{Kind: "dns.nxdomain", Match: faults.Match{Host: "nx.*"}, Fault: &faults.NXDomain{}},
		{Kind: "dns.servfail", Match: faults.Match{Host: "fail.*"}, When: faults.When{Every: 2}, Fault: &faults.ServFail{}},
		{Kind: "dns.refused", Match: faults.Match{Host: "ref*"}, Fault: &faults.Refused{}},
		{Kind: "dns.drop", Match: faults.Match{Host: "drop.*"}, Fault: &faults.DNSDrop{}},
		{Kind: "dns.delay", Match: faults.Match{Host: "slow.*"}, Fault: &faults.DNSDelay{Duration: profile.Duration(time.Microsecond)}},
		{Kind: "dns.answer", Match: faults.Match{Host: "*.lab"}, Fault: &faults.DNSAnswer{Address: "2001:db8::1", DNSMatch: faults.DNSMatch{QTypes: []string{"AAAA", "ANY"}}}},
		{Kind: "dns.nodata", Match: faults.Match{Host: "empty.*"}, Fault: &faults.NoData{}},
		{Kind: "dns.truncate", Match: faults.Match{Host: "tc.*"}, Fault: &faults.DNSTruncate{}},
	}
}

// FuzzDNSHandler feeds the handler every message the library can parse,
// over either transport, with every dns.* kind armed. It must never panic
// and must answer at most once with a packable message that answers the
// question asked.
func FuzzDNSHandler(f *testing.F) {
	for _, seed := range []struct {
		name   string
		qtype  uint16
		qclass uint16
		edns   bool
		tcp    bool
	}{
		{"fe2.update.microsoft.com.", dns.TypeA, dns.ClassINET, true, false},
		{"FE2.Update.Microsoft.COM.", dns.TypeAAAA, dns.ClassINET, false, true},
		{"wsus.lab.", dns.TypeAAAA, dns.ClassINET, true, false},
		{"wsus.lab.", dns.TypeANY, dns.ClassINET, true, false},
		{"nx.test.", dns.TypeA, dns.ClassINET, true, false},
		{"fail.test.", dns.TypeA, dns.ClassINET, false, false},
		{"refused.test.", dns.TypeMX, dns.ClassINET, false, true},
		{"drop.test.", dns.TypeA, dns.ClassINET, false, false},
		{"slow.lab.", dns.TypeA, dns.ClassINET, false, true},
		{"empty.lab.", dns.TypeHTTPS, dns.ClassINET, true, false},
		{"tc.update.microsoft.com.", dns.TypeA, dns.ClassINET, true, false},
		{"tc.update.microsoft.com.", dns.TypeA, dns.ClassINET, true, true},
		{"version.bind.", dns.TypeTXT, dns.ClassCHAOS, false, false},
		{"lab.", dns.TypeAXFR, dns.ClassINET, false, true},
		{"example.test.", dns.TypeA, dns.ClassINET, false, false},
		{".", dns.TypeNS, dns.ClassINET, true, false},
	} {
		m := new(dns.Msg)
		m.SetQuestion(seed.name, seed.qtype)
		m.Question[0].Qclass = seed.qclass
		if seed.edns {
			m.SetEdns0(1232, false)
		}
		b, err := m.Pack()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, seed.tcp)
	}
	two := new(dns.Msg)
	two.SetQuestion("a.lab.", dns.TypeA)
	two.Question = append(two.Question, dns.Question{Name: "b.lab.", Qtype: dns.TypeA, Qclass: dns.ClassINET})
	none := new(dns.Msg)
	none.Opcode = dns.OpcodeNotify
	for _, m := range []*dns.Msg{two, none} {
		b, _ := m.Pack()
		f.Add(b, false)
	}

	w, _ := dnsWorld(f, Options{MaxStall: 50 * time.Millisecond, Logger: discardLogger()}, "127.0.0.1:8530", nil)
	w.Activate("fuzz", 1, fuzzSpecs())
	s := w.services["dns"].(*dnsService)

	f.Fuzz(func(t *testing.T, pkt []byte, tcp bool) {
		r := new(dns.Msg)
		if err := r.Unpack(pkt); err != nil {
			return
		}
		rec := &fuzzWriter{dnsRecorder: dnsRecorder{tcp: tcp, keep: true}}
		s.ServeDNS(rec, r)
		if rec.err != nil {
			t.Fatalf("answer to %v does not pack: %v", r, rec.err)
		}
		if len(rec.msgs) > 1 {
			t.Fatalf("%d answers to one query %v", len(rec.msgs), r)
		}
		if len(rec.msgs) == 0 {
			if !r.Response && r.Opcode == dns.OpcodeQuery && len(r.Question) == 1 && !dropped(r.Question[0].Name) {
				t.Fatalf("no answer to %v", r)
			}
			return
		}
		m := rec.msgs[0]
		if r.Response {
			t.Fatalf("answered a response: %v", m)
		}
		if m.Id != r.Id || !m.Response {
			t.Fatalf("answer id %d qr %v, query id %d", m.Id, m.Response, r.Id)
		}
		if len(r.Question) == 1 && (len(m.Question) != 1 || m.Question[0] != r.Question[0]) {
			t.Fatalf("answer question %v, query question %v", m.Question, r.Question)
		}
		if m.Truncated && tcp {
			t.Fatalf("TC over TCP: %v", m)
		}
		if evs := w.Journal().Events(0, func(e Event) bool { return e.Kind == EventError && strings.Contains(e.Detail, "panic") }); len(evs) > 0 {
			t.Fatalf("handler panicked: %s", evs[0].Detail)
		}
	})
}

// dropped reports whether a name falls under the fuzz scenario's drop rule.
func dropped(name string) bool { return faults.Glob("drop.*", normName(name)) }

// fuzzWriter is a recorder that keeps the first pack error.
type fuzzWriter struct {
	dnsRecorder
	err error
}

func (w *fuzzWriter) WriteMsg(m *dns.Msg) error {
	if err := w.dnsRecorder.WriteMsg(m); err != nil {
		w.err = fmt.Errorf("pack: %w", err)
		return err
	}
	return nil
}
