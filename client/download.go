package client

import (
	"context"
	"crypto/sha1" //nolint:gosec // the update metadata's digest
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/wufault/wufault/client/profile"
)

// Download jobs (BITS and Delivery Optimization) retry transient errors
// until the job has made no progress for its no-progress timeout
// (reference 3.3):
//
//   - DO's no-progress timeout is 3,600 s for a high-priority job (DO
//     IBackgroundCopyJob::SetNoProgressTimeout); it then fails with
//     0x80D02002 [L-DO].
//   - BITS waits MinimumRetryDelay (600 s by default) between attempts
//     and gives up after NoProgressTimeout (14 days by default). What WUA
//     sets on its own BITS jobs is not documented; the emulated client
//     gives BITS jobs DO's 3,600 s window and both stacks BITS's 600 s
//     retry delay (inferred).
//
// Job timers are hours, not seconds, so the lab scales them by
// time_scale² (1e-4 at the lab's 0.01: a 0.36 s window, 60 ms between
// attempts) instead of time_scale; at time_scale 1 they are Windows'
// values. Whatever the scale, a job makes at least two attempts at a piece
// before giving up, so a single transient failure is always retried.
const (
	jobNoProgressTimeout = 3600 * time.Second
	jobRetryDelay        = 600 * time.Second
	// pieceSize is the size of the Range requests the lab client makes:
	// small, so that the lab's 64 KiB payloads take several.
	pieceSize = 16 << 10
	// minJobAttempts is the lab's floor of attempts at a piece.
	minJobAttempts = 2
)

// ErrNoFileURL is a file of an update that the server gave no URL for
// (WU_E_DM_URLNOTAVAILABLE).
var ErrNoFileURL = errors.New("the server gave no URL for the file")

// jobScaled scales a job timer by time_scale².
func (c *Config) jobScaled(d time.Duration) time.Duration {
	return max(time.Duration(float64(d)*c.TimeScale*c.TimeScale), time.Millisecond)
}

// downloadAll downloads and verifies every file of the scan, in order,
// stopping at the first job that fails.
func (s *session) downloadAll(ctx context.Context) error {
	for _, f := range s.files {
		if err := s.job(ctx, f); err != nil {
			return err
		}
		s.downloaded++
	}
	return nil
}

// job downloads one file as a BITS or DO job: Range requests of
// pieceSize, transient failures retried after the retry delay until the
// no-progress window ends, the digest checked at the end.
func (s *session) job(ctx context.Context, f updateFile) error {
	stack := s.cfg.Download
	jobCall := string(stack) + " job"
	jobStart := time.Now()
	fail := func(err error) error {
		o := s.record(attempt{class: profile.ClassDownload, call: jobCall, method: http.MethodGet, url: f.URL, start: jobStart}, nil, err)
		return failed(o)
	}
	u, err := url.Parse(f.URL)
	if f.URL == "" || err != nil {
		return fail(&JobError{Stack: stack, URL: f.URL, Err: ErrNoFileURL})
	}
	window, delay := s.cfg.jobScaled(jobNoProgressTimeout), s.cfg.jobScaled(jobRetryDelay)
	data := make([]byte, 0, max(f.Size, 0))
	lastProgress := time.Now()
	attempts, failures := 0, 0
	for int64(len(data)) < f.Size || (f.Size <= 0 && attempts == 0) {
		off := int64(len(data))
		end := min(off+pieceSize, f.Size) - 1
		rng := "bytes=" + strconv.FormatInt(off, 10) + "-" + strconv.FormatInt(end, 10)
		req := &request{Method: http.MethodGet, URL: u, Header: http.Header{"Range": {rng}}}
		if f.Size <= 0 {
			req.Header.Del("Range")
		}
		resp, a, err := s.fetch(ctx, profile.ClassDownload, "content", req, false)
		attempts++
		var piece []byte
		if err == nil {
			if f.Size <= 0 {
				piece = resp.Body
				if resp.Status != http.StatusOK {
					err = resp.statusError()
				}
			} else {
				piece, err = checkPiece(resp, rng, off, end, f.Size, stack == StackBITS)
			}
		}
		s.record(a, resp, err)
		if err == nil {
			data = append(data, piece...)
			lastProgress, failures = time.Now(), 0
			if f.Size <= 0 {
				break
			}
			continue
		}
		if !transient(err) {
			return fail(&JobError{Stack: stack, URL: f.URL, Attempts: attempts, Err: err})
		}
		failures++
		if failures >= minJobAttempts && time.Since(lastProgress)+delay > window {
			return fail(&JobError{Stack: stack, URL: f.URL, Attempts: attempts, NoProgress: true, Err: err})
		}
		s.log.Debug("client: transient download error, retrying", "url", f.URL, "attempt", attempts, "err", err)
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return fail(&JobError{Stack: stack, URL: f.URL, Attempts: attempts, Err: ctx.Err()})
		case <-t.C:
		}
	}
	if err := verifyDigest(f, data); err != nil {
		return fail(&JobError{Stack: stack, URL: f.URL, Attempts: attempts, Err: err})
	}
	return nil
}

// checkPiece accepts a 206 carrying exactly the range asked for. A 200
// (the whole file: Range ignored) or a 206 of another size is a
// *RangeError: Delivery Optimization's DO_E_HTTP_BLOCKSIZE_MISMATCH, "a
// response with a size different from the request" [L-DO]. BITS (partial
// true) keeps a short 206 that starts where it asked, as progress, and asks
// for the rest: its transfers resume. Any other status is a *StatusError.
func checkPiece(resp *response, rng string, off, end, size int64, partial bool) ([]byte, error) {
	want := end - off + 1
	switch resp.Status {
	case http.StatusPartialContent:
		cr := strings.TrimSpace(resp.Header.Get("Content-Range"))
		wantCR := fmt.Sprintf("bytes %d-%d/%d", off, end, size)
		got := int64(len(resp.Body))
		if got == want && strings.EqualFold(cr, wantCR) {
			return resp.Body, nil
		}
		if partial && got > 0 && got < want && strings.HasPrefix(cr, fmt.Sprintf("bytes %d-", off)) && strings.HasSuffix(cr, fmt.Sprintf("/%d", size)) {
			return resp.Body, nil
		}
		return nil, &RangeError{Status: resp.Status, Want: rng, Got: fmt.Sprintf("%q, %d bytes", cr, len(resp.Body))}
	case http.StatusOK:
		return nil, &RangeError{Status: resp.Status, Want: rng, Got: fmt.Sprintf("%d bytes", len(resp.Body))}
	}
	return nil, resp.statusError()
}

// verifyDigest checks the SHA-1 of the metadata (and the SHA-256
// AdditionalDigest when present).
func verifyDigest(f updateFile, data []byte) error {
	sum1 := sha1.Sum(data) //nolint:gosec // the protocol's digest
	if got := base64.StdEncoding.EncodeToString(sum1[:]); f.Digest != "" && got != f.Digest {
		return &DigestError{URL: f.URL, Algorithm: "SHA1", Want: f.Digest, Got: got}
	}
	if f.SHA256 != "" {
		sum := sha256.Sum256(data)
		if got := base64.StdEncoding.EncodeToString(sum[:]); got != f.SHA256 {
			return &DigestError{URL: f.URL, Algorithm: "SHA256", Want: f.SHA256, Got: got}
		}
	}
	return nil
}

// transient reports whether a job retries after err: the connection
// failed (refused, reset, closed early, timed out), as opposed to an
// answer that will not change (a status, a certificate, a name that does
// not exist, a broken response).
func transient(err error) bool {
	if !transportCause(err) {
		return false
	}
	if _, ok := errors.AsType[*NameError](err); ok {
		return false
	}
	return isTimeout(err) || isAny(syscall.ECONNRESET, syscall.ECONNREFUSED, syscall.ECONNABORTED, syscall.EPIPE,
		syscall.EHOSTUNREACH, syscall.ENETUNREACH, io.EOF, io.ErrUnexpectedEOF)(err)
}
