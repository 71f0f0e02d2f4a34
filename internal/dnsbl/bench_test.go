package dnsbl

import (
	"context"
	"testing"
)

// BenchmarkScoreCached is what the DNSBL fact costs per request once the
// resolver's cache is warm: three lists (a blocklist hit, a filtered
// blocklist, a DNSWL with two entries), no query sent.
func BenchmarkScoreCached(b *testing.B) {
	srv := startDNS(b)
	c, err := New(newResolver(b, srv), Config{Sites: sites(b,
		"zen.test*3", "bb.test=127.0.0.2*2",
		"list.dnswl.org=127.0.[0..255].0*-2", "list.dnswl.org=127.0.[0..255].[1..3]*-3")})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	client := ip("203.0.113.7")
	want := c.Score(ctx, client)
	if want.Score != 5 {
		b.Fatalf("score %d", want.Score)
	}
	queries := srv.TotalQueries()
	b.ReportAllocs()
	for b.Loop() {
		if res := c.Score(ctx, client); res.Score != want.Score {
			b.Fatalf("score %d", res.Score)
		}
	}
	if n := srv.TotalQueries(); n != queries {
		b.Fatalf("%d queries sent with a warm cache", n-queries)
	}
}

// BenchmarkScoreCachedParallel: the same from many requests at once.
func BenchmarkScoreCachedParallel(b *testing.B) {
	srv := startDNS(b)
	c, err := New(newResolver(b, srv), Config{Sites: sites(b, "zen.test*3", "bb.test=127.0.0.2*2", "list.dnswl.org=127.0.[0..255].[1..3]*-3")})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	client := ip("203.0.113.7")
	c.Score(ctx, client)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if res := c.Score(ctx, client); res.Score != 5 {
				b.Errorf("score %d", res.Score)
				return
			}
		}
	})
}

func BenchmarkParseSite(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseSite("list.dnswl.org=127.0.[0..255].[1..3]*-3"); err != nil {
			b.Fatal(err)
		}
	}
}
