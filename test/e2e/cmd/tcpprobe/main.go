// Command tcpprobe is the network probe of the kind-only tests: it opens one TCP connection to
// host:port and exits 0 if it connects, 1 if not. It is laid out as /api in a small image,
// signed like the service, so the probe pod passes every admission policy.
package main

import (
	"fmt"
	"net"
	"os"
	"time"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: tcpprobe host:port")
		os.Exit(2)
	}
	conn, err := net.DialTimeout("tcp", os.Args[1], 5*time.Second)
	if err != nil {
		fmt.Printf("blocked: %v\n", err)
		os.Exit(1)
	}
	conn.Close()
	fmt.Printf("connected to %s\n", os.Args[1])
}
