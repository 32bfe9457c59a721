//go:build !linux

package main

// harden does nothing outside Linux: see harden_linux.go. Operators on other
// systems should disable core dumps themselves (docs/intake.md, "Memory of a
// running server").
func harden() error { return nil }
