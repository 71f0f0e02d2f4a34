package maillog

import (
	"context"
	"io"
	"os"
	"time"
)

// FollowOptions tune FollowSource.
type FollowOptions struct {
	// Poll is how often to look for new data and rotation (default 250ms).
	Poll time.Duration
	// FromStart reads the file from its beginning; otherwise from its
	// current end, like tail -f.
	FromStart bool
}

// FollowSource follows a growing file like tail -F: at end of file it
// waits for more data; when the path names a different file (a new inode:
// rotation by rename) it finishes the old file and goes on with the new
// one from its start; when the file shrinks (copytruncate) it starts again
// at offset 0. It ends, with io.EOF, when ctx is done.
func FollowSource(ctx context.Context, path string, opt FollowOptions) Source {
	if opt.Poll <= 0 {
		opt.Poll = 250 * time.Millisecond
	}
	return Source{Name: path, Open: func() (io.ReadCloser, error) {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		fi, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, err
		}
		fl := &follower{ctx: ctx, path: path, opt: opt, f: f, fi: fi}
		if !opt.FromStart {
			if fl.off, err = f.Seek(0, io.SeekEnd); err != nil {
				f.Close()
				return nil, err
			}
		}
		return fl, nil
	}}
}

type follower struct {
	ctx  context.Context
	path string
	opt  FollowOptions
	f    *os.File
	fi   os.FileInfo
	off  int64
}

func (fl *follower) Read(b []byte) (int, error) {
	for {
		n, err := fl.f.Read(b)
		if n > 0 {
			fl.off += int64(n)
			return n, nil
		}
		if err != nil && err != io.EOF {
			return 0, err
		}
		if st, err := os.Stat(fl.path); err == nil {
			switch {
			case !os.SameFile(st, fl.fi):
				// rotated: the old file is drained (we are at its EOF); switch.
				if nf, err := os.Open(fl.path); err == nil {
					if nfi, err := nf.Stat(); err == nil {
						fl.f.Close()
						fl.f, fl.fi, fl.off = nf, nfi, 0
						continue
					}
					nf.Close()
				}
			case st.Size() < fl.off:
				// truncated in place
				if _, err := fl.f.Seek(0, io.SeekStart); err == nil {
					fl.off = 0
					continue
				}
			}
		}
		t := time.NewTimer(fl.opt.Poll)
		select {
		case <-fl.ctx.Done():
			t.Stop()
			return 0, io.EOF
		case <-t.C:
		}
	}
}

func (fl *follower) Close() error { return fl.f.Close() }
