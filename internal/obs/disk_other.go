//go:build !unix

package obs

import "errors"

// DiskFree is not implemented on this platform.
func DiskFree(string) (uint64, error) {
	return 0, errors.New("disk free space is not available on this platform")
}
