package simulate

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"

	"github.com/miekg/dns"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// udpServer serves DNS over UDP on a socket bound to one address with a
// reading worker: it reads a batch of datagrams, answers each in place
// (the lab zone, REFUSED, and the faults that answer at once) and writes
// the answers in one batch, with no goroutine per packet. A query whose
// handler is about to wait (a dns.delay or dns.drop asking for its
// context's Done, or a forward to an upstream resolver) first hands the
// reading over: its worker starts a replacement and, once the query is
// done, exits, so the number of workers reading stays the same whatever
// the faults hold.
//
// One worker reads, as dnsmasq's single thread does. Reads on one socket
// are serialized by the runtime anyway (the descriptor's read lock), and
// on the 2-core machine of docs/benchmarks.md four workers cost 30-60%
// more CPU per query than one, for no more queries per second: they spent
// it parking and waking on that lock, and each read found fewer
// datagrams waiting.
//
// A socket bound to every address keeps miekg/dns's server, which answers
// from the address each query came to (per-packet control messages).
type udpServer struct {
	s       *dnsService
	conn    *net.UDPConn
	workers int

	wg      sync.WaitGroup
	closing atomic.Bool
	spare   sync.Pool // *udpWorker whose goroutine ended (a hand-over makes one per waiting query)
}

// udpReaders is how many workers read a socket at once.
const udpReaders = 1

// newUDPServer prepares the workers of conn.
func newUDPServer(s *dnsService, conn *net.UDPConn) *udpServer {
	return &udpServer{s: s, conn: conn, workers: udpReaders}
}

// serve starts the workers; done is called once all of them have returned
// after close.
func (u *udpServer) serve(done func()) {
	u.wg.Add(u.workers)
	for range u.workers {
		go u.work(nil)
	}
	go func() {
		u.wg.Wait()
		done()
	}()
}

// close stops the reading; queries in flight finish on their own (the
// service's context ends the waiting ones).
func (u *udpServer) close() error {
	u.closing.Store(true)
	return u.conn.Close()
}

// udpBatch is how many datagrams one read (recvmmsg) and one write
// (sendmmsg) move at most.
const udpBatch = 32

// udpWorker is one reading worker's state: the batch it read, the
// answers it queued for one write.
type udpWorker struct {
	u      *udpServer
	bc     batchConn
	in     []ipv4.Message
	n, i   int         // in[:n] were read; in[i] is being answered
	queue  []udpPacket // handed over by another worker, answered first
	qi     int         // queue[qi] is being answered
	out    []ipv4.Message
	k      int // out[:k] are queued
	outBuf [][]byte

	// q and req are the datagram being answered: its ResponseWriter and
	// its parsed query. Both stay with this worker until the query is
	// done, also when it handed the reading over (the worker goes back to
	// the spare pool only then), so they need no allocation per query.
	q   udpQuery
	req dns.Msg
}

// batchConn reads and writes batches of datagrams (recvmmsg and sendmmsg
// on Linux, one at a time elsewhere).
type batchConn interface {
	ReadBatch(ms []ipv4.Message, flags int) (int, error)
	WriteBatch(ms []ipv4.Message, flags int) (int, error)
}

// udpPacket is a datagram handed over to a replacement worker.
type udpPacket struct {
	b    []byte
	from net.Addr
}

func (u *udpServer) newWorker() *udpWorker {
	wk := &udpWorker{u: u, in: make([]ipv4.Message, udpBatch), out: make([]ipv4.Message, udpBatch), outBuf: make([][]byte, udpBatch)}
	if addrIP(u.conn.LocalAddr()).Is4() {
		wk.bc = ipv4.NewPacketConn(u.conn)
	} else {
		wk.bc = ipv6.NewPacketConn(u.conn)
	}
	for i := range wk.in {
		wk.in[i].Buffers = [][]byte{make([]byte, dnsMaxQuery)}
		wk.outBuf[i] = make([]byte, 0, 512)
	}
	return wk
}

// work is one reading worker; pending are datagrams a worker that handed
// over had read but not answered.
func (u *udpServer) work(pending []udpPacket) {
	defer u.wg.Done()
	wk, _ := u.spare.Get().(*udpWorker)
	if wk == nil {
		wk = u.newWorker()
	}
	defer func() {
		wk.n, wk.i, wk.k, wk.queue, wk.qi = 0, 0, 0, nil, 0
		u.spare.Put(wk)
	}()
	wk.queue = pending
	for wk.qi = 0; wk.qi < len(wk.queue); wk.qi++ {
		if wk.serve(wk.queue[wk.qi].b, wk.queue[wk.qi].from) {
			return
		}
	}
	wk.queue = nil
	wk.flush()
	for {
		n, err := wk.bc.ReadBatch(wk.in, 0)
		if err != nil {
			if u.closing.Load() || errors.Is(err, net.ErrClosed) {
				return
			}
			u.s.log.Debug("udp read", "err", err)
			continue
		}
		wk.n = n
		for wk.i = 0; wk.i < n; wk.i++ {
			m := &wk.in[wk.i]
			if wk.serve(m.Buffers[0][:m.N], m.Addr) {
				return // the replacement reads; this goroutine was the query's
			}
		}
		wk.flush()
	}
}

// serve answers one datagram; it reports whether the query handed the
// reading over (and so this goroutine must stop reading).
func (wk *udpWorker) serve(b []byte, from net.Addr) (handedOff bool) {
	ua, ok := from.(*net.UDPAddr)
	if !ok || len(b) >= dnsMaxQuery {
		return false // cut off by the buffer: no real query is this big
	}
	ap := ua.AddrPort()
	ap = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	if !wk.u.s.allow(ap.Addr()) {
		wk.u.s.refuse(from)
		return false
	}
	q := &wk.q
	*q = udpQuery{u: wk.u, wk: wk, from: ap, remote: from}
	wk.u.handle(q, &wk.req, b)
	return q.wk == nil
}

// slot returns the next answer's buffer, writing the queued ones first
// when the batch is full.
func (wk *udpWorker) slot() int {
	if wk.k == len(wk.out) {
		wk.flush()
	}
	wk.k++
	return wk.k - 1
}

// flush writes the queued answers.
func (wk *udpWorker) flush() {
	for sent := 0; sent < wk.k; {
		n, err := wk.bc.WriteBatch(wk.out[sent:wk.k], 0)
		if err != nil {
			// sendmmsg fails only on the first message it could not
			// send: skip that one answer, not the rest of the batch.
			wk.u.s.log.Debug("udp write", "err", err)
			n = 1
		}
		sent += n
	}
	for i := range wk.k {
		wk.out[i].Addr = nil
	}
	wk.k = 0
}

// handOff answers the queued queries, gives the rest of the batch to a
// replacement worker and leaves this goroutine to the waiting query.
func (wk *udpWorker) handOff() {
	wk.flush()
	var rest []udpPacket
	if wk.queue != nil {
		rest = append(rest, wk.queue[wk.qi+1:]...)
		wk.queue = nil
	}
	for j := wk.i + 1; j < wk.n; j++ {
		m := &wk.in[j]
		rest = append(rest, udpPacket{b: bytes.Clone(m.Buffers[0][:m.N]), from: m.Addr})
	}
	wk.n = 0
	wk.u.wg.Add(1)
	go wk.u.work(rest)
}

// handle answers one datagram as miekg/dns's server does: a header that
// does not parse is dropped (any answer could be used to amplify), what
// its accept function rejects gets FORMERR or NOTIMP, a body that does
// not parse FORMERR; the rest goes to ServeDNS. req is where the query is
// parsed.
func (u *udpServer) handle(q *udpQuery, req *dns.Msg, m []byte) {
	if len(m) < 12 {
		return
	}
	dh := dns.Header{
		Id:      binary.BigEndian.Uint16(m[0:]),
		Bits:    binary.BigEndian.Uint16(m[2:]),
		Qdcount: binary.BigEndian.Uint16(m[4:]),
		Ancount: binary.BigEndian.Uint16(m[6:]),
		Nscount: binary.BigEndian.Uint16(m[8:]),
		Arcount: binary.BigEndian.Uint16(m[10:]),
	}
	*req = dns.Msg{}
	action := dns.DefaultMsgAcceptFunc(dh)
	if action == dns.MsgAccept {
		if err := req.Unpack(m); err == nil {
			u.s.ServeDNS(q, req)
			return
		}
	}
	if action == dns.MsgIgnore {
		return
	}
	// Rejected, or the body did not parse: answer the header alone.
	req.Id = dh.Id
	req.Opcode = int(dh.Bits>>11) & 0xF
	req.RecursionDesired = dh.Bits&(1<<8) != 0 // echoed, as miekg/dns's server does
	req.CheckingDisabled = dh.Bits&(1<<4) != 0
	req.Question, req.Answer, req.Ns, req.Extra = nil, nil, nil, nil
	req.SetRcodeFormatError(req)
	req.Zero = false
	if action == dns.MsgRejectNotImplemented {
		req.Opcode = int(dh.Bits>>11) & 0xF
		req.Rcode = dns.RcodeNotImplemented
	}
	_ = q.WriteMsg(req)
}

// udpQuery is the dns.ResponseWriter of one datagram. Its answer is
// queued on its worker's batch; once it handed the reading over (wk nil)
// it writes on its own.
type udpQuery struct {
	u      *udpServer
	wk     *udpWorker
	from   netip.AddrPort
	remote net.Addr
}

var _ dns.ResponseWriter = (*udpQuery)(nil)

func (q *udpQuery) LocalAddr() net.Addr  { return q.u.conn.LocalAddr() }
func (q *udpQuery) RemoteAddr() net.Addr { return q.remote }

// WriteMsg packs m into the next slot of the batch (or sends it).
func (q *udpQuery) WriteMsg(m *dns.Msg) error {
	if q.wk == nil {
		b, err := m.Pack()
		if err != nil {
			return err
		}
		_, err = q.Write(b)
		return err
	}
	wk := q.wk
	i := wk.slot()
	b, err := m.PackBuffer(wk.outBuf[i][:cap(wk.outBuf[i])])
	if err != nil {
		wk.k-- // nothing queued
		return err
	}
	if cap(b) <= 64<<10 {
		wk.outBuf[i] = b[:0] // keep a grown buffer
	}
	wk.out[i].Buffers = append(wk.out[i].Buffers[:0], b)
	wk.out[i].Addr = q.remote
	return nil
}

// Write queues (or sends) a packed answer.
func (q *udpQuery) Write(b []byte) (int, error) {
	if q.wk == nil {
		return q.u.conn.WriteToUDPAddrPort(b, q.from)
	}
	wk := q.wk
	i := wk.slot()
	wk.outBuf[i] = append(wk.outBuf[i][:0], b...)
	wk.out[i].Buffers = append(wk.out[i].Buffers[:0], wk.outBuf[i])
	wk.out[i].Addr = q.remote
	return len(b), nil
}

func (q *udpQuery) Close() error        { return nil }
func (q *udpQuery) TsigStatus() error   { return nil }
func (q *udpQuery) TsigTimersOnly(bool) {}
func (q *udpQuery) Hijack()             {}

// willWait hands the reading over before the query blocks.
func (q *udpQuery) willWait() {
	if q.wk == nil || q.u.closing.Load() {
		return
	}
	q.wk.handOff()
	q.wk = nil
}

// waiter is what a ResponseWriter implements when its query holds a
// reading worker: willWait is called before the query blocks.
type waiter interface{ willWait() }
