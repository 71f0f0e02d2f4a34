package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
)

// startProfile writes profiles for performance work until the returned
// stop is called: a CPU profile to $TEMPFAIL_CPUPROFILE, and mutex and
// blocking profiles to $TEMPFAIL_LOCKPROFILE.mutex / .block (where the
// time goes when the CPU is not busy), allocations to
// $TEMPFAIL_ALLOCPROFILE. docs/performance.md uses them.
func startProfile() (stop func()) {
	var stops []func()
	if path := os.Getenv("TEMPFAIL_CPUPROFILE"); path != "" {
		if f, err := os.Create(path); err != nil {
			fmt.Fprintln(os.Stderr, "TEMPFAIL_CPUPROFILE:", err)
		} else if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "TEMPFAIL_CPUPROFILE:", err)
			f.Close()
		} else {
			stops = append(stops, func() { pprof.StopCPUProfile(); f.Close() })
		}
	}
	if path := os.Getenv("TEMPFAIL_LOCKPROFILE"); path != "" {
		runtime.SetMutexProfileFraction(5)
		runtime.SetBlockProfileRate(10000) // one sample per 10 µs blocked
		stops = append(stops, func() {
			for _, name := range []string{"mutex", "block"} {
				f, err := os.Create(path + "." + name)
				if err != nil {
					fmt.Fprintln(os.Stderr, "TEMPFAIL_LOCKPROFILE:", err)
					continue
				}
				pprof.Lookup(name).WriteTo(f, 0)
				f.Close()
			}
		})
	}
	if path := os.Getenv("TEMPFAIL_ALLOCPROFILE"); path != "" {
		stops = append(stops, func() {
			f, err := os.Create(path)
			if err != nil {
				fmt.Fprintln(os.Stderr, "TEMPFAIL_ALLOCPROFILE:", err)
				return
			}
			pprof.Lookup("allocs").WriteTo(f, 0)
			f.Close()
		})
	}
	return func() {
		for _, s := range stops {
			s()
		}
	}
}
