package wrapper

import (
	"os"
	"path/filepath"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// execInPlace replaces the wrapper with FILE. It returns only when execve
// fails, and then behaves as Bash's shell_execve does after a failed execve.
//
// Signal state: see signal_linux.go for what the kernel's own execve rules
// hand FILE of what the wrapper inherited. syscall.Exec (not a raw execve) because it also restores the RLIMIT_NOFILE
// soft limit the Go runtime raised at start-up.
func execInPlace(file string, argv, env []string) int {
	err := syscall.Exec(file, argv, env)
	errno, ok := err.(syscall.Errno)
	if !ok {
		return failClosed("cannot exec " + file + ": " + err.Error())
	}
	return afterFailedExec(file, argv, env, errno)
}

// afterFailedExec does what Bash's shell_execve does once execve(FILE) has
// failed with errno: run a script without #! as a Bash script, or report.
func afterFailedExec(file string, argv, env []string, errno syscall.Errno) int {
	if errno == syscall.ENOEXEC {
		return runAsScript(file, argv, env)
	}
	return reportExecError(file, errno)
}

// reportExecError prints what Bash prints for an execve that failed with
// errno (other than ENOEXEC), in the same order of checks, and returns Bash's
// status: 127 for ENOENT, 126 otherwise.
//
// Bash prefixes these lines with its own name and, under -c, "line N: "; the
// wrapper knows neither, so the line starts at FILE.
func reportExecError(file string, errno syscall.Errno) int {
	status := exitCannotExec
	if errno == syscall.ENOENT {
		status = exitNotFound
	}
	var msg string
	switch {
	case isDir(file):
		msg = strerror(syscall.EISDIR)
	case !executableFile(file):
		msg = strerror(errno)
	case errno == syscall.E2BIG || errno == syscall.ENOMEM:
		msg = strerror(errno)
	case errno == syscall.ENOENT:
		// An executable file whose ELF interpreter or #! interpreter is
		// missing.
		msg = "cannot execute: required file not found"
	default:
		msg = strerror(errno)
		if sample := readSample(file); len(sample) > 2 && sample[0] == '#' && sample[1] == '!' {
			msg = interpreter(sample) + ": bad interpreter: " + msg
		}
	}
	os.Stderr.WriteString(file + ": " + msg + "\n")
	return status
}

// runAsScript is Bash's answer to ENOEXEC: an empty file succeeds, a binary
// file is an error, anything else runs as a Bash script.
//
// Bash does this in a forked copy of itself with $0 set to FILE and the
// positional parameters ARGV1...; the wrapper gets the same by exec'ing
// `bash FILE ARGV1...`. Differences, which only a script inspecting its own
// shell can see: it is a fresh Bash (it reads $BASH_ENV, it does not inherit
// unexported shell state, which Bash's subshell resets mostly anyway), and
// under `exec -a NAME` $0 is FILE where Bash would use NAME.
func runAsScript(file string, argv, env []string) int {
	sample := readSample(file)
	if sample != nil && len(sample) == 0 {
		return 0
	}
	if len(sample) > 0 && isBinary(sample) {
		os.Stderr.WriteString(file + ": cannot execute binary file: " + strerror(syscall.ENOEXEC) + "\n")
		return exitCannotExec
	}
	bash := scriptBash()
	bargv := make([]string, 0, len(argv)+2)
	bargv = append(bargv, bash)
	if file[0] == '-' || file[0] == '+' {
		bargv = append(bargv, "--") // FILE is the script, not an option
	}
	bargv = append(bargv, file)
	if len(argv) > 1 {
		bargv = append(bargv, argv[1:]...)
	}
	err := syscall.Exec(bash, bargv, env)
	os.Stderr.WriteString(file + ": cannot run it as a Bash script with " + bash + ": " + errText(err) + "\n")
	return exitCannotExec
}

// scriptBash picks the Bash that runs a shebang-less script: the Bash that
// started the wrapper (so a patched Bash stays in charge), else
// $EXECGATE_BASH, else /bin/bash. The parent is not Bash when Bash's `exec`
// builtin replaced itself with the wrapper.
func scriptBash() string {
	if exe, err := os.Readlink("/proc/" + strconv.Itoa(os.Getppid()) + "/exe"); err == nil && filepath.Base(exe) == "bash" {
		return exe
	}
	if b := os.Getenv("EXECGATE_BASH"); b != "" {
		return b
	}
	return "/bin/bash"
}

// sampleSize is Bash's HASH_BANG_BUFSIZ: how much of a file it inspects.
const sampleSize = 80

// readSample returns the first bytes of file, or nil when it cannot be read
// (Bash then goes on as if the file were text).
func readSample(file string) []byte {
	fd, err := unix.Open(file, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NOCTTY, 0)
	if err != nil {
		return nil
	}
	defer unix.Close(fd)
	buf := make([]byte, sampleSize)
	for {
		n, err := unix.Read(fd, buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil
		}
		return buf[:n]
	}
}

// isBinary is Bash's check_binary_file: an ELF header, or a NUL byte in the
// first line (first two lines after a #! line).
func isBinary(sample []byte) bool {
	if len(sample) >= 4 && sample[0] == 0x7f && sample[1] == 'E' && sample[2] == 'L' && sample[3] == 'F' {
		return true
	}
	lines := 1
	if len(sample) >= 2 && sample[0] == '#' && sample[1] == '!' {
		lines = 2
	}
	for _, c := range sample {
		if c == '\n' {
			lines--
			if lines == 0 {
				return false
			}
		}
		if c == 0 {
			return true
		}
	}
	return false
}

// interpreter extracts the program named on a #! line, as Bash's getinterp
// does, showing a trailing carriage return as ^M.
func interpreter(sample []byte) string {
	i := 2
	for i < len(sample) && (sample[i] == ' ' || sample[i] == '\t') {
		i++
	}
	start := i
	for i < len(sample) && sample[i] != ' ' && sample[i] != '\t' && sample[i] != '\n' && sample[i] != 0 {
		i++
	}
	interp := string(sample[start:i])
	if n := len(interp); n > 0 && interp[n-1] == '\r' {
		interp = interp[:n-1] + "^M"
	}
	return interp
}

func isDir(file string) bool {
	var st unix.Stat_t
	return unix.Stat(file, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFDIR
}

// executableFile is Bash's executable_file: not a directory, and executable
// for the effective ids.
func executableFile(file string) bool {
	return !isDir(file) && unix.Faccessat(unix.AT_FDCWD, file, unix.X_OK, unix.AT_EACCESS) == nil
}

// strerror returns the C library's message for errno. Go's table holds the
// same texts with the first letter lowered.
func strerror(errno syscall.Errno) string {
	s := errno.Error()
	if s != "" && s[0] >= 'a' && s[0] <= 'z' {
		s = string(s[0]-'a'+'A') + s[1:]
	}
	return s
}

func errText(err error) string {
	if errno, ok := err.(syscall.Errno); ok {
		return strerror(errno)
	}
	return err.Error()
}
