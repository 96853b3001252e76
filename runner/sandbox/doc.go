// Package sandbox confines terraform, and every process it starts, to the
// files its job needs, with Landlock: an unprivileged Linux security
// module, so it works as an ordinary user and in containers.
//
// A plan runs code from an unreviewed pull request: Terraform's built-in
// functions alone (file, fileset, templatefile) read any file atoll can
// read, and providers and external data sources run programs. Without a
// sandbox a plan reads atoll's configuration, its App key, the database,
// other repositories' plan files and state, and atoll's /proc entries.
//
// Landlock restricts the process that asks for it and everything that
// process starts afterwards, and it cannot be lifted. atoll therefore
// starts a copy of itself as the sandboxing parent: `atoll sandbox-exec
// --ro PATH --rw PATH --ls PATH --hide PATH -- PROGRAM ARGS...` (Command) restricts
// itself to a Policy and replaces itself (execve) with PROGRAM, which keeps
// its pid, its environment and the restriction. terraform-exec starts the
// binary it is given with terraform's arguments and cannot put arguments
// in front of them, so Wrap hands the sandbox-exec arguments over in one
// environment variable, which Unwrap removes again before anything else
// runs. The copy does this from package initialisation
// (cmd/atoll/internal/sandboxexec), before atoll's heavy packages are
// initialised, so that it starts in about the time of a small program.
//
// The sandboxing parent is a process of its own, not a restricted thread
// of atoll's: Landlock lets a sandboxed process signal and ptrace every
// thread of its own domain, so a thread of atoll confined to start
// terraform would leave atoll reachable by what terraform runs (a
// SIGKILL or SIGSTOP sent to that thread with tgkill stops all of atoll).
//
// Guarantees of Exec, when it returns no error it does not return at all:
//
//   - PROGRAM and its descendants can read and execute only under
//     Policy.Read and Policy.Write, write only under Policy.Write, and
//     never read a path of Policy.Hide that lies under one of those (a
//     Read or Write entry that holds a hidden path is replaced by its
//     other entries). Under Policy.List they may list directories, and
//     nothing more unless another entry grants it. Everything else,
//     /proc included, is refused with EACCES.
//   - On kernels with Landlock ABI 6 or later they cannot signal processes
//     outside the sandbox (atoll) nor reach their abstract UNIX sockets;
//     ptrace of processes outside the sandbox is refused on every ABI.
//   - Exec fails, and runs nothing, when the kernel has no Landlock.
//
// Network access is not restricted: providers and backends need it.
//
// HideSelf makes atoll's own process non-dumpable, so that a process of
// the same user (even one outside any sandbox) cannot read its
// /proc/PID/environ, mem or fd entries nor ptrace it.
package sandbox
