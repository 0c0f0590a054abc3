package observe

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/wufault/wufault/codes"
)

// xmlEvent is one <Event> of `wevtutil qe LOG /f:xml` (or /f:RenderedXml).
type xmlEvent struct {
	System struct {
		Provider struct {
			Name string `xml:"Name,attr"`
		} `xml:"Provider"`
		EventID     string `xml:"EventID"`
		TimeCreated struct {
			SystemTime string `xml:"SystemTime,attr"`
		} `xml:"TimeCreated"`
		Execution struct {
			ProcessID string `xml:"ProcessID,attr"`
			ThreadID  string `xml:"ThreadID,attr"`
		} `xml:"Execution"`
		Channel  string `xml:"Channel"`
		Computer string `xml:"Computer"`
	} `xml:"System"`
	EventData struct {
		Data []struct {
			Name  string `xml:"Name,attr"`
			Value string `xml:",chardata"`
		} `xml:"Data"`
	} `xml:"EventData"`
	UserData struct {
		Inner []byte `xml:",innerxml"`
	} `xml:"UserData"`
	RenderingInfo struct {
		Message string `xml:"Message"`
	} `xml:"RenderingInfo"`
}

// eventMeanings are the event IDs of reference section 7.4, keyed by
// provider family and ID.
var eventMeanings = map[string]string{
	"wu/16":   "Unable to connect: Automatic Updates cannot connect to the update service",
	"wu/19":   "Installation successful",
	"wu/20":   "Installation failure",
	"wu/25":   "Windows Update failed to check for updates",
	"wu/26":   "Found updates",
	"wu/29":   "Lost connectivity",
	"wu/30":   "Established connectivity",
	"wu/31":   "Download failed",
	"wu/41":   "Update downloaded",
	"wu/43":   "Installation started",
	"wu/44":   "Download started",
	"bits/59": "BITS started a transfer",
	"bits/60": "BITS stopped transferring",
	"bits/61": "BITS stopped transferring (error)",
}

// Data names that carry a code in these events.
var eventCodeFields = map[string]bool{"errorcode": true, "hr": true, "additionalinfohr": true, "error": true, "statuscode": true, "resultcode": false}

func parseEventXML(r io.Reader, res *LogResult, o LogOptions) error {
	d := xml.NewDecoder(r)
	d.Strict = false
	d.CharsetReader = func(charset string, in io.Reader) (io.Reader, error) {
		// The text was already decoded to UTF-8; the prolog may still say UTF-16.
		return in, nil
	}
	n, other := 0, 0
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			res.Warnings = append(res.Warnings, fmt.Sprintf("%s: XML error after %d events: %v (partial result)", res.Source, n, err))
			break
		}
		se, ok := tok.(xml.StartElement)
		if !ok || se.Name.Local != "Event" {
			continue
		}
		var ev xmlEvent
		if err := d.DecodeElement(&ev, &se); err != nil {
			res.Warnings = append(res.Warnings, fmt.Sprintf("%s: event %d: %v (partial result)", res.Source, n+1, err))
			break
		}
		n++
		e, ok := eventEntry(ev, o)
		if !ok {
			other++
			if !o.KeepAll {
				continue
			}
		}
		e.Source, e.Line = res.Source, n
		if o.KeepAll || len(e.Codes) > 0 {
			res.Entries = append(res.Entries, e)
		}
	}
	res.Lines = n
	if n == 0 {
		return fmt.Errorf("observe: %s: no <Event> records: %w", res.Source, ErrNotALog)
	}
	if other > 0 {
		res.Warnings = append(res.Warnings, fmt.Sprintf("%s: %d of %d events are from other providers and were skipped", res.Source, other, n))
	}
	return nil
}

// eventEntry turns one event into an entry; false for providers other
// than WindowsUpdateClient and Bits-Client.
func eventEntry(ev xmlEvent, o LogOptions) (Entry, bool) {
	prov := ev.System.Provider.Name
	fam := ""
	switch {
	case strings.Contains(strings.ToLower(prov), "windowsupdateclient"):
		fam = "wu"
	case strings.Contains(strings.ToLower(prov), "bits-client"):
		fam = "bits"
	}
	id, _ := strconv.Atoi(strings.TrimSpace(ev.System.EventID))
	e := Entry{
		Format:    FormatEvent,
		EventID:   id,
		Channel:   strings.TrimSpace(ev.System.Channel),
		Provider:  prov,
		PID:       ev.System.Execution.ProcessID,
		TID:       ev.System.Execution.ThreadID,
		Component: shortProvider(prov),
	}
	if t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(ev.System.TimeCreated.SystemTime)); err == nil {
		e.Time = t
	}
	var parts []string
	for _, dt := range ev.EventData.Data {
		v := strings.TrimSpace(dt.Value)
		name := strings.ToLower(dt.Name)
		if v == "" {
			continue
		}
		if len(v) > 256 {
			v = v[:256] + "…"
		}
		parts = append(parts, dt.Name+"="+v)
		switch {
		case eventCodeFields[name]:
			if c, err := codes.Parse(v); err == nil && c != codes.OK {
				e.Codes = append(e.Codes, Found{Code: c, Spelling: dt.Name + "=" + v, Field: name})
			}
		case name == "url":
			e.URL = v
		case name == "proxy":
			e.ProxyList = v
		}
	}
	meaning := eventMeanings[fmt.Sprintf("%s/%d", fam, id)]
	msg := strings.Join(strings.Fields(ev.RenderingInfo.Message), " ")
	switch {
	case msg != "":
		e.Text = fmt.Sprintf("event %d: %s", id, msg)
	case meaning != "":
		e.Text = fmt.Sprintf("event %d: %s (%s)", id, meaning, strings.Join(parts, ", "))
	default:
		e.Text = fmt.Sprintf("event %d (%s)", id, strings.Join(parts, ", "))
	}
	if len(e.Codes) == 0 {
		// Codes written only in the rendered message or in UserData.
		e.Codes = findCodes(msg)
		if len(e.Codes) == 0 && len(ev.UserData.Inner) > 0 {
			e.Codes = findCodes(string(ev.UserData.Inner))
		}
	}
	if fam == "wu" && id == 25 && len(e.Codes) > 0 {
		e.Final = true
	}
	return e, fam != ""
}

func shortProvider(p string) string {
	p = strings.TrimPrefix(p, "Microsoft-Windows-")
	return p
}
