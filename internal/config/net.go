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

// isUnspecified reports whether host is the any-address (0.0.0.0, ::, or empty), which names no host a
// client could put in its Host header.
func isUnspecified(host string) bool {
	ip := net.ParseIP(host)
	return host == "" || (ip != nil && ip.IsUnspecified())
}
