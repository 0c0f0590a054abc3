package client

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/wufault/wufault/client/profile"
	"github.com/wufault/wufault/codes"
)

// Duration is a time.Duration that marshals as a Go duration string.
type Duration time.Duration

// MarshalText writes the duration as "1.5s".
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// UnmarshalText reads a Go duration string.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("duration %q: %w", b, err)
	}
	*d = Duration(v)
	return nil
}

func (d Duration) String() string { return time.Duration(d).String() }

// Observation is what the client saw for one request: its class and
// call, where it failed, the Go error, the WinHTTP error and HRESULT
// Windows would report, the HTTP status, the timing, and the rule that
// decided with its confidence and source.
type Observation struct {
	Class  profile.Class `json:"class"`
	Call   string        `json:"call"` // GetConfig, wuident.cab, content, …
	Method string        `json:"method"`
	URL    string        `json:"url"`
	Proxy  string        `json:"proxy,omitempty"`
	Phase  profile.Phase `json:"phase,omitempty"`
	// Error is the Go error, as text.
	Error      string             `json:"error,omitempty"`
	WinHTTP    WinHTTPError       `json:"winhttp,omitempty"`
	Code       codes.Code         `json:"code"`
	JobCode    codes.Code         `json:"job_code,omitempty"`
	Status     int                `json:"status,omitempty"`
	Start      time.Time          `json:"start"`
	Duration   Duration           `json:"duration"`
	Rule       string             `json:"rule,omitempty"`
	Confidence profile.Confidence `json:"confidence,omitempty"`
	Source     string             `json:"source,omitempty"`
	// Err is the Go error itself, for errors.Is and errors.As.
	Err error `json:"-"`
}

// Failed reports whether the request failed.
func (o *Observation) Failed() bool { return o.Code != codes.OK }

// Result is one session: the final code, the class of the request that
// decided it, every observation in order, and the failing one.
type Result struct {
	Code       codes.Code         `json:"code"`
	Class      profile.Class      `json:"class,omitempty"`
	Confidence profile.Confidence `json:"confidence,omitempty"`
	Source     string             `json:"source,omitempty"`
	// Failed is the observation that decided the final code (nil on
	// success).
	Failed       *Observation  `json:"failed,omitempty"`
	Observations []Observation `json:"observations"`
	// Updates is the number of update revisions the scan found and
	// Downloaded the number of files downloaded and verified.
	Updates    int       `json:"updates"`
	Downloaded int       `json:"downloaded"`
	Start      time.Time `json:"start"`
	Duration   Duration  `json:"duration"`
}

// WriteJSON writes the result as indented JSON.
func (r *Result) WriteJSON(w io.Writer) error { return writeJSON(w, r) }

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// WriteText writes the result for people: one line per observation, then
// the final code.
func (r *Result) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CLASS\tCALL\tPHASE\tSTATUS\tWINHTTP\tCODE\tTIME\tRULE")
	for _, o := range r.Observations {
		status, wh, code := "-", "-", "OK"
		if o.Status != 0 {
			status = fmt.Sprint(o.Status)
		}
		if o.WinHTTP != 0 {
			wh = fmt.Sprint(uint32(o.WinHTTP))
		}
		if o.Code != codes.OK {
			code = o.Code.Hex()
		}
		phase := string(o.Phase)
		if phase == "" {
			phase = "-"
		}
		rule := o.Rule
		if rule == "" {
			rule = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", o.Class, o.Call, phase, status, wh, code,
			time.Duration(o.Duration).Round(time.Millisecond), rule)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	var b strings.Builder
	if r.Failed == nil {
		fmt.Fprintf(&b, "result: %s: scan found %d update revision(s), %d file(s) downloaded (%s)\n",
			r.Code, r.Updates, r.Downloaded, time.Duration(r.Duration).Round(time.Millisecond))
	} else {
		f := r.Failed
		fmt.Fprintf(&b, "result: %s\n  class %s, call %s, phase %s\n  %s\n", r.Code, f.Class, f.Call, orDash(string(f.Phase)), f.URL)
		if f.Error != "" {
			fmt.Fprintf(&b, "  error: %s\n", f.Error)
		}
		if f.WinHTTP != 0 {
			fmt.Fprintf(&b, "  winhttp: %s\n", f.WinHTTP)
		}
		if f.JobCode != 0 && f.JobCode != f.Code {
			fmt.Fprintf(&b, "  job: %s\n", f.JobCode)
		}
		fmt.Fprintf(&b, "  rule: %s (confidence %s; %s)\n", f.Rule, f.Confidence, f.Source)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
