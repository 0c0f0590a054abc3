package simulate

import (
	"context"
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
