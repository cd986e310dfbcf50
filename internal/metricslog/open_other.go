//go:build !unix

package metricslog

// openFlags are none where O_NONBLOCK does not exist; the check before
// opening still refuses what is not a regular file.
const openFlags = 0
