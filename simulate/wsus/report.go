package wsus

import (
	"encoding/xml"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// A Report is one event a client sent with ReportEventBatch ([MS-WUSP] 6.3,
// ReportingEvent: BasicData, ExtendedData, PrivateData). Win32HResult is how a
// real Windows client tells the lab which code it hit; the raw text fields are
// kept as sent.
type Report struct {
	Time            time.Time // when the server received the batch
	ClientTime      time.Time // BasicData TimeAtTarget; zero when absent or unparsable
	ComputerID      string    // client id from the batch's cookie; empty without one
	TargetSID       string    // BasicData TargetID Sid, as sent
	ComputerDNSName string    // PrivateData ComputerDnsName, as sent
	EventInstanceID string
	SequenceNumber  int64
	NamespaceID     int
	EventID         int
	SourceID        int
	UpdateID        string // BasicData UpdateID UpdateID, lowercase, without braces
	RevisionNumber  int
	// Win32HResult is the event's HRESULT. Clients send it as a signed 32-bit
	// decimal (-2145107946 is 0x80244016); unsigned decimal and 0x-hex are
	// accepted too. Zero when absent or unparsable; see Win32HResultText.
	Win32HResult       uint32
	Win32HResultText   string // as sent
	AppName            string
	ReplacementStrings []string
	MiscData           []string
}

// reportingEvent is one ReportingEvent on the wire. Numbers are read as text
// and parsed leniently, so one odd field never loses the event.
type reportingEvent struct {
	BasicData struct {
		TargetID struct {
			SID string `xml:"Sid"`
		} `xml:"TargetID"`
		SequenceNumber  string `xml:"SequenceNumber"`
		TimeAtTarget    string `xml:"TimeAtTarget"`
		EventInstanceID string `xml:"EventInstanceID"`
		NamespaceID     string `xml:"NamespaceID"`
		EventID         string `xml:"EventID"`
		SourceID        string `xml:"SourceID"`
		UpdateID        struct {
			UpdateID       string `xml:"UpdateID"`
			RevisionNumber string `xml:"RevisionNumber"`
		} `xml:"UpdateID"`
		Win32HResult string `xml:"Win32HResult"`
		AppName      string `xml:"AppName"`
	} `xml:"BasicData"`
	ExtendedData struct {
		ReplacementStrings []string `xml:"ReplacementStrings>string"`
		MiscData           []string `xml:"MiscData>string"`
	} `xml:"ExtendedData"`
	PrivateData struct {
		ComputerDNSName string `xml:"ComputerDnsName"`
		UserAccountName string `xml:"UserAccountName"`
	} `xml:"PrivateData"`
}

// reportResponse is the answer GoSecure/pywsus sends (report-event-batch.xml).
type reportResponse struct {
	XMLName xml.Name `xml:"http://www.microsoft.com/SoftwareDistribution ReportEventBatchResponse"`
	Result  bool     `xml:"ReportEventBatchResult"`
}

// reportEventBatch records each event. The cookie is optional in the WSDL; one
// that is present must be valid, as for the other methods.
func (s *Server) reportEventBatch(q *soapRequest, _ *http.Request, c *Call) (any, *soapFault) {
	var req struct {
		Cookie     *xmlCookie       `xml:"cookie"`
		ClientTime string           `xml:"clientTime"`
		Events     []reportingEvent `xml:"eventBatch>ReportingEvent"`
	}
	if err := q.decode(&req); err != nil {
		return nil, readFault(err)
	}
	computer := ""
	if req.Cookie != nil {
		ck, f := s.checkCookie(req.Cookie, c)
		if f != nil {
			return nil, f
		}
		computer = ck.clientID
	}
	now := s.now()
	reports := make([]Report, 0, len(req.Events))
	for _, e := range req.Events {
		reports = append(reports, e.report(now, computer))
	}
	s.mu.Lock()
	s.reports = append(s.reports, reports...)
	if n := len(s.reports) - maxReports; n > 0 {
		s.reports = append(s.reports[:0:0], s.reports[n:]...)
	}
	s.mu.Unlock()
	for _, r := range reports {
		s.log.Debug("wsus: report", "computer", r.ComputerID, "event_id", r.EventID,
			"hresult", "0x"+strconv.FormatUint(uint64(r.Win32HResult), 16), "update", r.UpdateID)
		if s.opts.OnReport != nil {
			s.opts.OnReport(r)
		}
	}
	return reportResponse{Result: true}, nil
}

func (e *reportingEvent) report(now time.Time, computer string) Report {
	b := &e.BasicData
	r := Report{
		Time:               now,
		ComputerID:         computer,
		TargetSID:          strings.TrimSpace(b.TargetID.SID),
		ComputerDNSName:    strings.TrimSpace(e.PrivateData.ComputerDNSName),
		EventInstanceID:    strings.TrimSpace(b.EventInstanceID),
		SequenceNumber:     atoi64(b.SequenceNumber),
		NamespaceID:        int(atoi64(b.NamespaceID)),
		EventID:            int(atoi64(b.EventID)),
		SourceID:           int(atoi64(b.SourceID)),
		UpdateID:           strings.ToLower(strings.Trim(strings.TrimSpace(b.UpdateID.UpdateID), "{}")),
		RevisionNumber:     int(atoi64(b.UpdateID.RevisionNumber)),
		Win32HResultText:   b.Win32HResult,
		AppName:            b.AppName,
		ReplacementStrings: e.ExtendedData.ReplacementStrings,
		MiscData:           e.ExtendedData.MiscData,
	}
	if t, ok := parseXSDTime(b.TimeAtTarget); ok {
		r.ClientTime = t
	}
	r.Win32HResult, _ = parseHResult(b.Win32HResult)
	return r
}

// atoi64 parses a decimal field, 0 when it is not one.
func atoi64(s string) int64 {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		return 0
	}
	return n
}

// parseHResult reads an HRESULT as a signed or unsigned 32-bit decimal or as
// 0x-prefixed hex.
func parseHResult(s string) (uint32, bool) {
	s = strings.TrimSpace(s)
	if h, ok := strings.CutPrefix(strings.ToLower(s), "0x"); ok {
		n, err := strconv.ParseUint(h, 16, 32)
		if err != nil {
			return 0, false
		}
		return uint32(n), true
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < -1<<31 || n > 1<<32-1 {
		return 0, false
	}
	return uint32(n), true
}
