package main

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// harden keeps the process's memory, which holds the vault's keys and
// sources' derived keys while unsealed, out of core files and away from
// same-user debuggers: RLIMIT_CORE 0 (no core file, soft and hard) and
// PR_SET_DUMPABLE 0, which also makes /proc/PID/mem and ptrace need
// CAP_SYS_PTRACE. Run it first thing in main.
func harden() error {
	if err := unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{Cur: 0, Max: 0}); err != nil {
		return fmt.Errorf("set RLIMIT_CORE to 0: %w", err)
	}
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
		return fmt.Errorf("prctl(PR_SET_DUMPABLE, 0): %w", err)
	}
	return nil
}
