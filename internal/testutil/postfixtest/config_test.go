package postfixtest

import (
	"strings"
	"testing"
	"time"
)

// TestRelaysAndQueueTiming: the main.cf lines the trace tests rely on,
// and the loopback-only rule for relays.
func TestRelaysAndQueueTiming(t *testing.T) {
	o := Options{
		Relays:               map[string]string{"b.test": "127.0.0.1:2526", "a.test": "127.0.0.1:2525"},
		QueueRunDelay:        time.Second,
		MinimalBackoffTime:   1500 * time.Millisecond,
		MaximalQueueLifetime: 8 * time.Second,
	}.withDefaults()
	p, err := o.mainCF("/x", "65534", "65534")
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{
		"transport_maps":         "inline:{ a.test=smtp:[127.0.0.1]:2525, b.test=smtp:[127.0.0.1]:2526 }",
		"relay_domains":          "a.test, b.test",
		"smtp_dns_support_level": "disabled",
		"queue_run_delay":        "1s",
		"minimal_backoff_time":   "2s",
		"maximal_queue_lifetime": "8s",
	} {
		if p[k] != want {
			t.Errorf("%s = %q, want %q", k, p[k], want)
		}
	}
	if _, ok := p["bounce_queue_lifetime"]; ok {
		t.Errorf("unset option written")
	}
	if !strings.Contains(masterCF(25, []string{smtpService}), "smtp      unix") {
		t.Errorf("no smtp service")
	}
	o.Relays = map[string]string{"c.test": "192.0.2.1:25"}
	if _, err := o.mainCF("/x", "1", "1"); err == nil {
		t.Errorf("a non-loopback relay was accepted")
	}
}
