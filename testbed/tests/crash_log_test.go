package tests

import "testing"

// The persistent queue's start-up line, as the collector v0.161.0 writes it
// (resource fields shortened), and the lines around it.
func TestQueueBacklog(t *testing.T) {
	f := func(log string, want int64, wantOK bool) {
		t.Helper()
		got, ok := queueBacklog(log)
		if got != want || ok != wantOK {
			t.Errorf("queueBacklog(%q) = %d, %v; want %d, %v", log, got, ok, want, wantOK)
		}
	}
	// One request unread and one being sent, 256 spans each: 512.
	f("2026-12-03T19:44:41.395Z\tinfo\tqueue/persistent_queue.go:186\tLoaded queue metadata\t"+
		`{"resource": {"service.name": "otelcol-usageledger"}, "otelcol.component.id": "usageledger", `+
		`"readIndex": 51, "writeIndex": 52, "itemsSize": 512, "bytesSize": 603764, "dispatchedItems": 1}`+"\n", 512, true)
	// An empty queue after a graceful stop.
	f("2026-12-03T19:44:41.395Z\tinfo\tqueue/persistent_queue.go:186\tLoaded queue metadata\t"+
		`{"readIndex": 52, "writeIndex": 52, "itemsSize": 0, "bytesSize": 0, "dispatchedItems": 0}`+"\n", 0, true)
	// A first start has no metadata yet.
	f("2026-12-03T19:44:40.001Z\tinfo\tqueue/persistent_queue.go:166\tNew queue metadata key not found, attempting to load legacy format.\n", 0, false)
	// Another component's itemsSize does not count.
	f(`2026-12-03T19:44:41.402Z	info	queue/persistent_queue.go:496	Moved items for dispatching back to queue	{"itemsSize": 7}`+"\n", 0, false)
}
