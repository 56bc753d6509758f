package wrapper

// progName prefixes the wrapper's own diagnostics (protocol failures), so
// they cannot be mistaken for the program's output.
const progName = "execgate-execve-wrapper"

// Exit statuses, as Bash uses them for a command it could not run.
const (
	exitDenied     = 1   // Deny, as Codex's wrapper does
	exitCannotExec = 126 // found but not executable, and every fail-closed path
	exitNotFound   = 127 // no such file
)
