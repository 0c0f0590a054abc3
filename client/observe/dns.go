package observe

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/wufault/wufault/client/profile"
)

// DNSQuery is one DNS question and what became of it.
type DNSQuery struct {
	Time      time.Time     `json:"time"`
	Client    string        `json:"client"`
	Server    string        `json:"server"`
	Transport string        `json:"transport"` // udp or tcp
	ID        uint16        `json:"id"`
	Name      string        `json:"name"` // no trailing dot, as gopacket gives it
	Type      string        `json:"type"`
	Sends     int           `json:"sends"` // 1 + retransmissions
	Answered  bool          `json:"answered"`
	Rcode     string        `json:"rcode,omitempty"`
	Answers   []string      `json:"answers,omitempty"`
	Truncated bool          `json:"truncated,omitempty"`
	Latency   time.Duration `json:"latency_ns,omitempty"`

	answerTime time.Time
	rcode      int
}

// rcodeName spells an RCODE as dig and miekg/dns do.
func rcodeName(n int) string {
	if s, ok := map[int]string{0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED", 9: "NOTAUTH"}[n]; ok {
		return s
	}
	return fmt.Sprintf("RCODE%d", n)
}

type dnsKey struct {
	client, server netip.AddrPort
	id             uint16
	name           string
	qtype          layers.DNSType
}

type dnsTracker struct {
	a        *analyzer
	open     map[dnsKey]*DNSQuery
	queries  []*DNSQuery
	findings []Finding
	bad      int
}

func newDNSTracker(a *analyzer) *dnsTracker {
	return &dnsTracker{a: a, open: map[dnsKey]*DNSQuery{}}
}

// datagram handles one DNS message from src to dst.
func (d *dnsTracker) datagram(payload []byte, src, dst netip.AddrPort, ts time.Time, transport string) {
	var m layers.DNS
	if err := m.DecodeFromBytes(payload, gopacket.NilDecodeFeedback); err != nil || len(m.Questions) == 0 {
		d.bad++
		return
	}
	q := m.Questions[0]
	name := strings.TrimSuffix(string(q.Name), ".")
	if !m.QR {
		k := dnsKey{src, dst, m.ID, strings.ToLower(name), q.Type}
		if dq, ok := d.open[k]; ok && !dq.Answered {
			dq.Sends++
			return
		}
		dq := &DNSQuery{Time: ts, Client: src.String(), Server: dst.String(), Transport: transport, ID: m.ID, Name: name, Type: q.Type.String(), Sends: 1}
		d.open[k] = dq
		d.queries = append(d.queries, dq)
		return
	}
	k := dnsKey{dst, src, m.ID, strings.ToLower(name), q.Type}
	dq, ok := d.open[k]
	if !ok || dq.Answered {
		return // an answer to a query not captured, or a duplicate
	}
	dq.Answered = true
	dq.answerTime = ts
	dq.Latency = ts.Sub(dq.Time)
	dq.rcode = int(m.ResponseCode)
	dq.Rcode = rcodeName(dq.rcode)
	dq.Truncated = m.TC
	for _, rr := range m.Answers {
		switch {
		case rr.IP != nil:
			dq.Answers = append(dq.Answers, rr.Type.String()+" "+rr.IP.String())
		case len(rr.CNAME) > 0:
			dq.Answers = append(dq.Answers, "CNAME "+string(rr.CNAME))
		default:
			dq.Answers = append(dq.Answers, rr.Type.String())
		}
	}
	delete(d.open, k)
}

func (d *dnsTracker) finish(end time.Time) {
	for _, q := range d.queries {
		var sig Signature
		detail := ""
		ts := q.answerTime
		switch {
		case !q.Answered:
			if q.Sends < 2 && end.Sub(q.Time) <= d.a.o.StallThreshold {
				continue // the capture ended too soon to call it lost
			}
			sig, ts = SigDNSNoAnswer, q.Time
			detail = fmt.Sprintf("%s %s sent %d time(s) to %s, never answered", q.Name, q.Type, q.Sends, q.Server)
		case q.rcode == 3:
			sig = SigDNSNXDomain
		case q.rcode == 2:
			sig = SigDNSServFail
		case q.rcode == 5:
			sig = SigDNSRefused
		case q.rcode != 0:
			sig = SigDNSOther
		case len(q.Answers) == 0 && (q.Type == "A" || q.Type == "AAAA"):
			sig = SigDNSNoData
		default:
			continue
		}
		if detail == "" {
			detail = fmt.Sprintf("%s %s answered %s by %s after %s", q.Name, q.Type, q.Rcode, q.Server, q.Latency.Round(time.Microsecond))
			if sig == SigDNSNoData {
				detail = fmt.Sprintf("%s %s answered NOERROR with no records (NODATA) by %s", q.Name, q.Type, q.Server)
			}
		}
		c := profile.ClassOf(q.Name, "")
		d.findings = append(d.findings, Finding{
			Time: ts, Signature: sig, Phase: "resolve", Host: q.Name, Class: c, Detail: detail,
			Who: map[bool]string{true: "server", false: ""}[q.Answered], Prediction: Predict(sig, c, 0, "resolve"),
		})
	}
	if d.bad > 0 {
		d.a.an.Warnings = append(d.a.an.Warnings, fmt.Sprintf("%d datagrams on DNS ports were not DNS messages", d.bad))
	}
}

// dnsStream reads DNS over TCP: messages framed by a 2-byte length.
type dnsStream struct{}

func (dnsStream) parse(f *Flow, st *stream, ts time.Time, src, dst netip.AddrPort) {
	for len(st.buf) >= 2 {
		n := int(binary.BigEndian.Uint16(st.buf))
		if len(st.buf) < 2+n {
			return
		}
		f.a.dns.datagram(st.buf[2:2+n], src, dst, ts, "tcp")
		st.buf = st.buf[2+n:]
	}
}

// Recognising DNS by content: a datagram on a port not known as DNS that
// parses as a query is kept (a bounded number of them, oldest dropped);
// a datagram back that parses as its response makes the query's server
// port a DNS port, and both go to the tracker.

// maxSniffed bounds the queries kept while waiting for a response.
const maxSniffed = 4096

type sniffKey struct {
	client, server netip.AddrPort
	id             uint16
}

type sniffed struct {
	payload  []byte
	ts       time.Time
	question string
}

type dnsSniffer struct {
	pending map[sniffKey]sniffed
	order   []sniffKey
}

// question is the first question of a DNS message in the lowercase form
// used to match a response to its query, and whether it is a response.
func question(payload []byte) (string, uint16, bool, bool) {
	var m layers.DNS
	if err := m.DecodeFromBytes(payload, gopacket.NilDecodeFeedback); err != nil || len(m.Questions) != 1 || m.OpCode != layers.DNSOpCodeQuery {
		return "", 0, false, false
	}
	q := m.Questions[0]
	return strings.ToLower(string(q.Name)) + "/" + q.Type.String() + "/" + q.Class.String(), m.ID, m.QR, true
}

// sniffDNS looks at a UDP datagram on a port not known as DNS.
func (a *analyzer) sniffDNS(payload []byte, src, dst netip.AddrPort, ts time.Time) {
	if len(payload) < 12 || len(payload) > 4096 {
		return
	}
	q, id, isResponse, ok := question(payload)
	if !ok {
		return
	}
	s := a.sniff
	if !isResponse {
		k := sniffKey{src, dst, id}
		if _, dup := s.pending[k]; !dup {
			if len(s.order) >= maxSniffed {
				delete(s.pending, s.order[0])
				s.order = s.order[1:]
			}
			s.order = append(s.order, k)
		}
		s.pending[k] = sniffed{payload: bytes.Clone(payload), ts: ts, question: q}
		return
	}
	k := sniffKey{dst, src, id}
	query, ok := s.pending[k]
	if !ok || query.question != q {
		return
	}
	delete(s.pending, k)
	port := src.Port()
	if !a.dnsPorts[port] {
		a.dnsPorts[port] = true
		a.an.DNSPortsByContent = append(a.an.DNSPortsByContent, int(port))
	}
	a.dns.datagram(query.payload, dst, src, query.ts, "udp")
	a.dns.datagram(payload, src, dst, ts, "udp")
}
