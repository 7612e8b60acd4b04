//go:build unix

package obs

import "golang.org/x/sys/unix"

// DiskFree returns the bytes available to this (unprivileged) process on the filesystem holding path.
func DiskFree(path string) (uint64, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return 0, err
	}
	return uint64(st.Bavail) * uint64(st.Bsize), nil //nolint:unconvert // field types differ by platform
}
