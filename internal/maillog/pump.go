package maillog

import "sync"

// pumpBatch is how many events one hand-over between the goroutines of
// Pump carries.
const pumpBatch = 256

// Pump reads r to its end and calls fn with every event in log order, in
// the calling goroutine, while a second goroutine reads and parses ahead:
// on a machine with two or more cores the parsing and whatever fn does
// (correlating, classifying, aggregating) run side by side. Events are
// parsed straight into the slots of a few reused batches, so nothing is
// copied and memory stays at a few batches whatever the input size. fn
// must not keep the *Event after it returns (its strings it may keep).
// r.Stats() is complete when Pump returns; r must not be used meanwhile.
func Pump(r *Reader, fn func(*Event)) {
	type batch struct {
		evs []Event
		n   int
	}
	const inFlight = 4
	free := make(chan *batch, inFlight)
	full := make(chan *batch, inFlight)
	for i := 0; i < inFlight; i++ {
		free <- &batch{evs: make([]Event, pumpBatch)}
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(full)
		for {
			var b *batch
			select {
			case <-stop:
				return
			default:
			}
			select {
			case b = <-free:
			case <-stop:
				return
			}
			b.n = 0
			for b.n < len(b.evs) && r.NextInto(&b.evs[b.n]) {
				b.n++
			}
			if b.n == 0 {
				return
			}
			full <- b
			if b.n < len(b.evs) {
				return
			}
		}
	}()
	defer func() {
		// fn panicked or returned normally: let the reader finish either way.
		close(stop)
		for range full {
		}
		wg.Wait()
	}()
	for b := range full {
		for i := 0; i < b.n; i++ {
			fn(&b.evs[i])
		}
		free <- b
	}
}
