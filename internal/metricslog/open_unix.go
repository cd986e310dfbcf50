//go:build unix

package metricslog

import "syscall"

// openFlags keep Open from waiting: O_NONBLOCK returns at once from a named
// pipe or device swapped in after the check, which the second check then
// refuses, and O_NOCTTY keeps a terminal from becoming the runner's.
const openFlags = syscall.O_NONBLOCK | syscall.O_NOCTTY
