// Command wufault-agent runs on a Windows VM of a wufault lab: it probes the
// Windows Update endpoints through the real WinHTTP, runs a real Windows
// Update scan through the WUA COM API, and reports what Windows said to the
// lab's control API, so a matrix can show observed codes beside predicted
// ones. Build it with GOOS=windows GOARCH=amd64 go build -o wufault-agent.exe.
//
//	wufault-agent --print-setup --lab-proxy 192.0.2.10:8080 --ca lab-ca.cer
//	wufault-agent --wsus http://wsus.lab.test:8530 --scan --report http://192.0.2.10:8081
package main
