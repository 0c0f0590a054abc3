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
