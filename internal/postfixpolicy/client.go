package postfixpolicy

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"time"

	"github.com/tempfail/tempfail/internal/policy"
)

// Query sends req to the policy server at addr ("unix:/path", or TCP
// "host:port"; see Listen) on a new connection, as Postfix would, and
// returns its answer. verbose asks a tempfail server for the deciding check,
// reason and detail (Response.Check, .Reason, .Detail). ctx bounds the
// whole exchange.
//
// A server that closes the connection unanswered, as a policy server does
// on a protocol error, yields an error wrapping ErrNoResponse.
func Query(ctx context.Context, addr string, req *policy.Request, verbose bool) (Response, error) {
	msg, err := appendRequest(make([]byte, 0, 1024), req, verbose)
	if err != nil {
		return Response{}, err
	}
	network, address := splitAddr(addr)
	var d net.Dialer
	nc, err := d.DialContext(ctx, network, address)
	if err != nil {
		return Response{}, fmt.Errorf("policy query %s: %w", addr, err)
	}
	defer nc.Close()
	// Unblock the write or read below when ctx ends. Only this, not a
	// socket deadline copied from ctx, so that an I/O timeout always comes
	// after ctx is done and is reported as ctx's error.
	stop := context.AfterFunc(ctx, func() { nc.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	resp, err := exchange(nc, msg)
	if err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return Response{}, fmt.Errorf("policy query %s: %w", addr, err)
	}
	return resp, nil
}

func exchange(nc net.Conn, msg []byte) (Response, error) {
	if _, err := nc.Write(msg); err != nil {
		return Response{}, fmt.Errorf("send request: %w", err)
	}
	return ReadResponse(bufio.NewReader(nc), 0)
}
