// Package bpf holds linkprof's eBPF programs and their generated loaders.
// The bpf2go output is committed so that building needs no clang.
package bpf

//go:generate go tool bpf2go -cc clang -cflags "-O2 -g -Wall -Werror" -target amd64,arm64 -type lp_event -type lp_kind Nccl nccl.c -- -I./headers
