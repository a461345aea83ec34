//go:build !linux

package certificate

import "errors"

// syncFS is not available: SyncFiles falls back to one fsync a file.
func syncFS(dir string) error { return errors.New("syncfs: not supported") }
