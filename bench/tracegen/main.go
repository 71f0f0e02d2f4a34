// Command tracegen writes a synthetic Postfix log of a given size for
// bench/trace: maillogtest.Generate's messages (greylisted retries,
// bounces, expiries, NOQUEUE rejects, varied queue ids and addresses) in
// the line formats real Postfix writes (see test/integration/trace_postfix_test.go).
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/tempfail/tempfail/internal/maillog/maillogtest"
)

// countingWriter stops the generator once the target size is reached.
type countingWriter struct {
	w     io.Writer
	n, to int64
}

var errEnough = fmt.Errorf("enough")

func (c *countingWriter) Write(p []byte) (int, error) {
	k, err := c.w.Write(p)
	c.n += int64(k)
	if err == nil && c.n >= c.to {
		err = errEnough
	}
	return k, err
}

func main() {
	out := flag.String("o", "", "output `file` (default stdout)")
	mb := flag.Int64("mb", 1024, "size in MiB")
	seed := flag.Uint64("seed", 1, "random seed")
	flag.Parse()
	var w io.Writer = os.Stdout
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		defer f.Close()
		w = f
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	cw := &countingWriter{w: bw, to: *mb << 20}
	// Generate stops at the first write error: errEnough ends it at the
	// target size, on a whole chunk of lines.
	_, err := maillogtest.Generate(cw, 1<<40, *seed)
	if err != nil && err != errEnough {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := bw.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
