// Package repotrust decides whether a program that runs code from the
// repository it works in may run outside the sandbox. git runs hooks,
// core.fsmonitor, filters and pagers named by the repository's
// configuration; make runs the Makefile of its directory. Escalated for an
// allow rule, such a program would run whatever a sandboxed command wrote
// there. So it is trusted only where nothing that selects that code could
// have been written by a sandboxed call since the server started, nor can be
// changed by one while the program starts.
//
// A [Registry] learns what every call's sandbox keeps read-only (its
// sandbox.Protection) before the call runs anything, and keeps the files
// and directories that were protected by device and inode, so that a
// directory moved, replaced or recreated under a protected name is not taken
// for the one that was protected. [Registry.Check] then finds the
// repository as git does (.git directories, gitfiles and bare repositories
// up from the working directory, GIT_CEILING_DIRECTORIES and filesystem
// boundaries honoured) and requires, for every call recorded so far:
//
//   - the git directory and its common directory were never writable in a
//     sandbox: outside every writable root, or at or below a path the
//     sandbox mounted read-only, the same inode then as now;
//   - no name on the path to what git uses can be renamed by a sandbox (a
//     protected mount point cannot);
//   - git's search cannot be misled: every directory git looks in on its way
//     up from the working directory is one no sandbox can write (a .git or a
//     bare repository planted there while git starts would be used), or else
//     git is given the repository instead (a [Pin]: GIT_DIR and
//     GIT_WORK_TREE, where that changes nothing else git does);
//   - the configuration git reads (system, global, the repository's, and
//     every file they include) and the hooks directory it names, hook
//     symlinks and a core.fsmonitor program, are equally out of reach;
//   - a repository with submodules has a work tree no sandbox can write (git
//     enters each submodule through the .git file in the work tree);
//   - no GIT_* variable of the program's environment comes from the
//     sandboxed shell (it could name another repository or configuration).
//
// A call without namespaces (the sandbox cannot keep .git read-only) makes
// every repository untrusted, as does a danger-full-access call: either may
// have written anything.
package repotrust
