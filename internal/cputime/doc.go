// Package cputime measures the process's CPU time, for the benchmarks' cpu-ns/op: on a shared
// machine it moves less with other load than wall-clock ns/op does.
package cputime
