// Package observe reads what real Windows Update clients leave behind and
// what went over the wire, so a matrix can show observed codes beside the
// emulated client's predictions.
//
// Three sources, all tolerant of bad input (they return what they could
// read and a warning, never panic):
//
//   - Logs: ParseLog reads WindowsUpdate.log in the legacy (XP to 8.1)
//     format and in the Get-WindowsUpdateLog (Windows 10+) format,
//     ReportingEvents.log lines, and event logs exported with
//     `wevtutil qe LOG /f:xml` (WindowsUpdateClient Operational 25, 26, 31,
//     System 16 and 20, Bits-Client 59, 60 and 61). UTF-8, UTF-8 with a BOM
//     and UTF-16 (with or without a BOM, as Windows writes them) are
//     decoded. Every HRESULT spelling of reference/wu-codes.md section 7.3
//     is recognised, plus the structured fields (soap client error, soap
//     error code, HTTP status code, BG_ERROR_CONTEXT, proxy and bypass
//     lists, auth schemes, Exit code).
//   - Journal correlation: ReadJournal reads the world's journal as JSON
//     lines (the control API's stream) and Correlate ties each code found
//     in a log to the nearest fault firing within a time window.
//   - Packets: Analyze reads a pcap or pcapng file (pure Go, gopacket) and
//     reports per flow DNS rcodes, TCP RST and FIN (who, when, how many
//     bytes in, before or after the response headers), stalls, TLS alerts
//     and the handshake stage reached, HTTP status lines and malformed
//     responses, with the Windows Update code each signature predicts
//     (reference section 4, with its source tags and confidence).
//     Capture records live traffic on Linux (AF_PACKET, CAP_NET_RAW)
//     filtered to the world's ports with a BPF program.
//
// The package imports neither simulate nor faults: like a real client it
// sees only what the wire and the logs show. The journal's JSON is read
// into this package's own JournalEvent. Request classes, confidences and
// the HTTP status → code table are the emulated client's (profile.Class,
// client.StatusCode), so predictions and observations use one mapping.
package observe
