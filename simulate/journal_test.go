package simulate

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"
)

func TestJournalRingAndFilter(t *testing.T) {
	j := NewJournal(4)
	for n := range 6 {
		j.Add(Event{Kind: EventRequest, Status: 200 + n})
	}
	got := j.Events(0, nil)
	if len(got) != 4 || got[0].Seq != 3 || got[3].Seq != 6 {
		t.Fatalf("ring kept %+v, want seq 3..6", got)
	}
	if got := j.Events(4, nil); len(got) != 2 || got[0].Seq != 5 {
		t.Errorf("since 4: %+v", got)
	}
	if got := j.Events(0, func(e Event) bool { return e.Status == 204 }); len(got) != 1 || got[0].Seq != 5 {
		t.Errorf("filter: %+v", got)
	}
	if got[0].Time.IsZero() {
		t.Error("time not stamped")
	}
}

// The ring starts small and grows to its capacity, keeping every event in
// order across each growth and after it wraps.
func TestJournalRingGrows(t *testing.T) {
	const capacity = 1000 // not a multiple of the first size
	j := NewJournal(capacity)
	if len(j.ring) >= capacity {
		t.Fatalf("a new journal holds %d slots, want fewer than its capacity", len(j.ring))
	}
	for n := 1; n <= 2500; n++ {
		j.Add(Event{Kind: EventRequest, Bytes: int64(n)})
		got := j.Events(0, nil)
		want := min(n, capacity)
		if len(got) != want || got[0].Seq != uint64(n-want+1) || got[len(got)-1].Seq != uint64(n) {
			t.Fatalf("after %d events: kept %d (seq %d..%d), want the last %d", n, len(got), got[0].Seq, got[len(got)-1].Seq, want)
		}
	}
	if len(j.ring) != capacity {
		t.Errorf("ring grew to %d slots, want %d", len(j.ring), capacity)
	}
}

func TestJournalSubscribe(t *testing.T) {
	j := NewJournal(0)
	ctx, cancel := context.WithCancel(context.Background())
	ch := j.Subscribe(ctx, 2)
	var wg sync.WaitGroup
	wg.Go(func() {
		for range 5 {
			j.Add(Event{Kind: EventFault})
		}
	})
	wg.Wait()
	first := <-ch
	if first.Seq != 1 {
		t.Errorf("first streamed event seq %d", first.Seq)
	}
	if j.Dropped() != 3 {
		t.Errorf("dropped %d, want 3 with a 2-slot subscriber", j.Dropped())
	}
	cancel()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		case <-deadline:
			t.Fatal("subscription not closed after cancel")
		}
	}
}

// Events(since) returns exactly the kept events after since, whatever
// since is: before the oldest kept, inside, at the newest, past it; also
// once the ring has wrapped.
func TestJournalEventsSince(t *testing.T) {
	for _, added := range []int{0, 3, 10, 25} {
		j := NewJournal(10)
		for range added {
			j.Add(Event{Kind: EventRequest})
		}
		oldest := max(1, added-9)
		for since := range added + 3 {
			got := j.Events(uint64(since), nil)
			first := max(since+1, oldest)
			want := max(0, added-first+1)
			if len(got) != want || (want > 0 && (got[0].Seq != uint64(first) || got[want-1].Seq != uint64(added))) {
				t.Fatalf("%d added, since %d: %d events %v, want %d from seq %d", added, since, len(got), seqs(got), want, first)
			}
		}
	}
}

// between stops before until.
func TestJournalBetween(t *testing.T) {
	j := NewJournal(10)
	for range 25 {
		j.Add(Event{Kind: EventRequest})
	}
	for _, tc := range []struct{ since, until, first, last uint64 }{
		{0, 100, 16, 25}, {17, 20, 18, 19}, {18, 19, 0, 0}, {3, 17, 16, 16}, {30, 40, 0, 0},
	} {
		got := j.between(tc.since, tc.until, nil)
		if (tc.first == 0 && len(got) != 0) || (tc.first != 0 && (len(got) == 0 || got[0].Seq != tc.first || got[len(got)-1].Seq != tc.last)) {
			t.Errorf("between(%d, %d) = %v, want %d..%d", tc.since, tc.until, seqs(got), tc.first, tc.last)
		}
	}
}

// A follower that comes back with an id from before a restart (past this
// journal's newest) gets what the journal holds, not silence.
func TestJournalFollowAfterRestart(t *testing.T) {
	j := NewJournal(0)
	for range 3 {
		j.Add(Event{Kind: EventRequest})
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var got []uint64
	err := j.follow(ctx, 5000, func(Event) bool { return true },
		func(e Event) error { got = append(got, e.Seq); return nil },
		func() error { cancel(); return nil }, func() error { return nil })
	if err != context.Canceled || !slices.Equal(got, []uint64{1, 2, 3}) {
		t.Fatalf("follow from 5000 on a journal at 3: wrote %v (%v), want 1..3", got, err)
	}
}

func seqs(evs []Event) []uint64 {
	out := make([]uint64, len(evs))
	for i, e := range evs {
		out[i] = e.Seq
	}
	return out
}

// A follower too slow for its subscription's buffer still writes every
// event in order: what the channel dropped comes from the ring.
func TestJournalFollowFillsGaps(t *testing.T) {
	const n = 10000 // more than the subscription's 4096
	j := NewJournal(0)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready, release := make(chan struct{}), make(chan struct{})
	var got []uint64
	done := make(chan error, 1)
	go func() {
		done <- j.follow(ctx, 0, func(e Event) bool { return e.Kind != EventError },
			func(e Event) error {
				<-release // slow until every event was added
				got = append(got, e.Seq)
				if e.Seq > n {
					cancel()
				}
				return nil
			},
			func() error { close(ready); return nil },
			func() error { return nil })
	}()
	<-ready
	for i := range n {
		kind := EventRequest
		if i%1000 == 999 {
			kind = EventError // not kept: never written
		}
		j.Add(Event{Kind: kind})
	}
	if j.Dropped() == 0 {
		t.Fatal("the subscription dropped nothing: the test does not test the gap")
	}
	close(release)
	// The next event shows the gap; events go on until the follower has
	// drained its channel and taken one.
	var err error
	for wait := time.After(10 * time.Second); ; {
		j.Add(Event{Kind: EventRequest})
		select {
		case err = <-done:
		case <-time.After(10 * time.Millisecond):
			continue
		case <-wait:
			t.Fatal("the follower never wrote an event after the gap")
		}
		break
	}
	if err != context.Canceled {
		t.Fatalf("follow returned %v", err)
	}
	var want []uint64
	for s := uint64(1); s <= got[len(got)-1]; s++ {
		if s%1000 != 0 || s > n {
			want = append(want, s)
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("wrote %d events (first %v), want %d in order", len(got), got[:min(5, len(got))], len(want))
	}
}
