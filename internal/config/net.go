package config

import (
	"fmt"
	"net"
)

func splitHostPort(v string) (string, string, error) {
	host, port, err := net.SplitHostPort(v)
	if err != nil {
		return "", "", fmt.Errorf("must be host:port: %v", err)
	}
	return host, port, nil
}

func isLoopbackIP(host string) bool {
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
