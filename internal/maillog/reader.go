package maillog

import (
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
)

// DefaultMaxLine is the longest line Reader accepts (bytes, terminator
// included). Postfix truncates its own records to about 2000 characters
// (util/msg_logger.c) and syslog daemons to 8 KiB or so; anything longer is
// skipped and counted, never buffered whole.
const DefaultMaxLine = 64 << 10

// DefaultSamples is how many unparsed lines Stats keeps as examples.
const DefaultSamples = 10

// Source is one input: a file, stdin, or a followed file.
type Source struct {
	Name string
	Open func() (io.ReadCloser, error)
}

// FileSource reads a file, plain or gzip (recognised by its magic bytes,
// whatever its name).
func FileSource(path string) Source {
	return Source{Name: path, Open: func() (io.ReadCloser, error) {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		return maybeGzip(f, f)
	}}
}

// ReaderSource reads r (stdin, a test buffer), decompressing gzip if the
// stream starts with the gzip magic bytes. r is not closed.
func ReaderSource(name string, r io.Reader) Source {
	return Source{Name: name, Open: func() (io.ReadCloser, error) {
		return maybeGzip(r, nil)
	}}
}

// Files returns sources for paths in reading order: each rotated set oldest
// first (see SortRotated).
func Files(paths ...string) []Source {
	var out []Source
	for _, p := range SortRotated(paths) {
		out = append(out, FileSource(p))
	}
	return out
}

type readCloser struct {
	io.Reader
	closers []io.Closer
}

func (rc *readCloser) Close() error {
	var err error
	for _, c := range rc.closers {
		if c != nil {
			if e := c.Close(); e != nil && err == nil {
				err = e
			}
		}
	}
	return err
}

func maybeGzip(r io.Reader, c io.Closer) (io.ReadCloser, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	magic, _ := br.Peek(2)
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			if c != nil {
				c.Close()
			}
			return nil, err
		}
		return &readCloser{Reader: zr, closers: []io.Closer{zr, c}}, nil
	}
	return &readCloser{Reader: br, closers: []io.Closer{c}}, nil
}

// Sample is an unparsed line kept for the report.
type Sample struct {
	File string `json:"file"`
	Line int64  `json:"line"`
	Text string `json:"text"` // at most 200 bytes
}

// Stats counts what a Reader saw.
type Stats struct {
	Files    int   `json:"files"`
	Lines    int64 `json:"lines"`
	Bytes    int64 `json:"bytes"`
	Postfix  int64 `json:"postfix"`
	Exim     int64 `json:"exim"`
	Ignored  int64 `json:"ignored"`  // framed lines of other programs
	Unparsed int64 `json:"unparsed"` // includes Overlong
	Overlong int64 `json:"overlong"`
	// OpenErrors counts sources that could not be opened or failed while
	// reading (the first error is kept in Reader.Err; reading goes on with
	// the next source).
	OpenErrors int             `json:"open_errors"`
	ByKind     [numKinds]int64 `json:"-"`
	Samples    []Sample        `json:"samples,omitempty"`
}

// Reader reads sources in order, line by line, and parses each line. State
// that spans lines (year inference) carries across sources, so a rotated
// set read in order behaves as one stream.
type Reader struct {
	// MaxLine and MaxSamples may be changed before the first Next.
	MaxLine    int
	MaxSamples int

	p     *Parser
	srcs  []Source
	cur   int
	rc    io.ReadCloser
	br    *bufio.Reader
	name  string
	line  int64
	ev    Event
	stats Stats
	err   error
}

// NewReader reads srcs with p (nil: a zero Parser).
func NewReader(p *Parser, srcs ...Source) *Reader {
	if p == nil {
		p = &Parser{}
	}
	return &Reader{p: p, srcs: srcs, MaxLine: DefaultMaxLine, MaxSamples: DefaultSamples, cur: -1}
}

// Err is the first error met while opening or reading a source, if any.
// Such errors never stop the reader; it goes on with the next source.
func (r *Reader) Err() error { return r.err }

// Stats returns the counters so far.
func (r *Reader) Stats() Stats { return r.stats }

func (r *Reader) fail(err error) {
	r.stats.OpenErrors++
	if r.err == nil {
		r.err = fmt.Errorf("%s: %w", r.name, err)
	}
}

// Next returns the next event, including unparsed and ignored lines (look
// at Kind). The *Event is reused by the following call; its strings stay
// valid. It returns false at the end of all sources.
func (r *Reader) Next() (*Event, bool) {
	if !r.NextInto(&r.ev) {
		return nil, false
	}
	return &r.ev, true
}

// NextInto is Next parsing into ev, which the caller owns: a pipeline can
// parse into slots of a batch while another goroutine consumes the batch
// before (see Pump).
func (r *Reader) NextInto(ev *Event) bool {
	for {
		if r.br == nil {
			if !r.open() {
				return false
			}
		}
		b, err := r.br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// overlong: skip to the end of the line without buffering it
			r.line++
			n := int64(len(b))
			for errors.Is(err, bufio.ErrBufferFull) {
				b, err = r.br.ReadSlice('\n')
				n += int64(len(b))
			}
			r.stats.Lines++
			r.stats.Bytes += n
			r.stats.Overlong++
			r.stats.Unparsed++
			r.sample(fmt.Sprintf("(overlong line, %d bytes)", n))
			if err != nil && !errors.Is(err, io.EOF) {
				r.fail(err)
			}
			if err != nil {
				r.closeCur()
			}
			continue
		}
		if len(b) == 0 {
			if err != nil && !errors.Is(err, io.EOF) {
				r.fail(err)
			}
			r.closeCur()
			continue
		}
		r.line++
		r.stats.Lines++
		r.stats.Bytes += int64(len(b))
		line := string(b)
		if err != nil && !errors.Is(err, io.EOF) {
			r.fail(err)
			r.closeCur()
		}
		ok := r.p.Parse(line, ev)
		ev.File, ev.LineNo = r.name, r.line
		r.stats.ByKind[ev.Kind]++
		switch {
		case !ok:
			r.stats.Unparsed++
			r.sample(ev.Line)
		case ev.Kind == KindIgnored:
			r.stats.Ignored++
		case ev.MTA == MTAPostfix:
			r.stats.Postfix++
		case ev.MTA == MTAExim:
			r.stats.Exim++
		}
		return true
	}
}

func (r *Reader) sample(text string) {
	if len(r.stats.Samples) >= r.MaxSamples {
		return
	}
	if len(text) > 200 {
		text = text[:200]
	}
	r.stats.Samples = append(r.stats.Samples, Sample{File: r.name, Line: r.line, Text: text})
}

func (r *Reader) open() bool {
	for {
		r.cur++
		if r.cur >= len(r.srcs) {
			return false
		}
		s := r.srcs[r.cur]
		r.name, r.line = s.Name, 0
		rc, err := s.Open()
		if err != nil {
			r.fail(err)
			continue
		}
		r.stats.Files++
		r.rc = rc
		size := r.MaxLine
		if size < 256 {
			size = 256
		}
		r.br = bufio.NewReaderSize(rc, size)
		return true
	}
}

func (r *Reader) closeCur() {
	if r.rc != nil {
		if err := r.rc.Close(); err != nil {
			r.fail(err)
		}
	}
	r.rc, r.br = nil, nil
}

// Close releases the current source. Reading to the end closes every
// source by itself.
func (r *Reader) Close() error {
	r.closeCur()
	r.cur = len(r.srcs)
	return nil
}
