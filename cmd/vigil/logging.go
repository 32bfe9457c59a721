package main

import (
	"fmt"
	"io"
	"log/slog"
)

// newLogger returns serve's operational logger: text or JSON lines on w,
// from level up.
//
// What serve logs is about the server, never about sources: start (with
// the seal state, listeners, origin and precision), stop, seal and
// unseal, checkpoints signed and cosigned, witness and storage errors.
// Nothing is logged when a submission or a follow-up arrives, so the
// time stamps cannot date one; TestServeLogNamesNoSource checks the log of
// a submission and a follow-up holds no text, receipt, ID or address.
func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, usageError{fmt.Sprintf("--log-level %q: want debug, info, warn or error", level)}
	}
	opt := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opt)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opt)), nil
	}
	return nil, usageError{fmt.Sprintf("--log-format %q: want text or json", format)}
}
