package peers

import (
	"flag"
	"fmt"
	"net"
	"os"
)

// Listen is the command line the measuring programs share: -listen, a
// loopback host:port (nothing here may listen elsewhere), and -ready, a
// file that receives the address once the listener is open.
func Listen() (net.Listener, error) {
	listen := flag.String("listen", "127.0.0.1:0", "loopback address to listen on")
	ready := flag.String("ready", "", "file to write the listening address to")
	flag.Parse()
	host, _, err := net.SplitHostPort(*listen)
	if err != nil || !net.ParseIP(host).IsLoopback() {
		return nil, fmt.Errorf("-listen %q: want a loopback host:port", *listen)
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return nil, err
	}
	if *ready != "" {
		if err := os.WriteFile(*ready, []byte(ln.Addr().String()), 0o644); err != nil {
			ln.Close()
			return nil, err
		}
	}
	return ln, nil
}
