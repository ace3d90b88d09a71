package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"
)

// secretsTimeout bounds validate -secrets.
const secretsTimeout = 30 * time.Second

// invalidError is a configuration that validate found problems in, and printed.
type invalidError struct{ problems int }

func (e *invalidError) Error() string {
	return fmt.Sprintf("%d problem(s) in the configuration", e.problems)
}

// validate loads the files as serve would and prints every problem, or what would be served.
// Warnings (plugins that would not be mounted) are printed as log lines.
func validate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	flags := newFlags("validate", "-config FILE [-config FILE ...] [flags]", stderr)
	var cf configFlags
	cf.register(flags)
	secrets := flags.Bool("secrets", false, "also resolve every {vault://...} reference once, through the files' vaults (this contacts them)")
	if err := flags.Parse(args); err != nil {
		return err
	}
	if flags.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", flags.Arg(0))
	}
	logger := slog.New(slog.NewTextHandler(stdout, &slog.HandlerOptions{ReplaceAttr: withoutTime}))
	g, err := build(cf.loadOptions(logger))
	if err != nil {
		return printProblems(stdout, err)
	}
	defer g.close()
	if *secrets {
		ctx, cancel := context.WithTimeout(ctx, secretsTimeout)
		defer cancel()
		var errs []error
		for _, p := range g.plugins {
			if err := p.proxy.ValidateSecrets(ctx); err != nil {
				errs = append(errs, configErrors(p.path, err)...)
			}
		}
		if len(errs) > 0 {
			return printProblems(stdout, errs...)
		}
	}
	fmt.Fprintf(stdout, "configuration OK: %d plugin(s) to serve\n", len(g.plugins))
	for _, p := range g.plugins {
		fmt.Fprintf(stdout, "  %s on %s: %d target(s)\n", p.where, strings.Join(p.paths, ", "), len(p.cfg.Targets))
	}
	return nil
}

// printProblems prints each problem the errors join, one a line, and returns the
// invalidError that makes the command exit 1.
func printProblems(out io.Writer, errs ...error) error {
	var lines []string
	for _, err := range errs {
		lines = append(lines, strings.Split(err.Error(), "\n")...)
	}
	fmt.Fprintf(out, "configuration invalid: %d problem(s)\n", len(lines))
	for _, l := range lines {
		fmt.Fprintln(out, "  "+l)
	}
	return &invalidError{problems: len(lines)}
}

// withoutTime drops the time from log lines meant for a terminal.
func withoutTime(groups []string, a slog.Attr) slog.Attr {
	if len(groups) == 0 && a.Key == slog.TimeKey {
		return slog.Attr{}
	}
	return a
}
