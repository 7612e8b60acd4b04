package config

import "net"

// isLoopbackHost reports whether host (a name or an IP, without a port) only accepts connections from
// this machine: "localhost" or a loopback address.
func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
