package repotrust

import "strings"

// gitCommand is what git's command line says about the repositories it will
// use.
type gitCommand struct {
	dir    string // where repository discovery starts (after -C)
	gitDir string // --git-dir or --bare, absolute; "" to discover
	// workTree is --work-tree, absolute ("" if not given): hooks run there.
	workTree string
	sub      string // the subcommand, "" if none
	// repoArgs are arguments naming repositories (git receive-pack DIR).
	repoArgs []string
	// pushes: the command pushes (push, send-pack), and a push to a
	// repository on this machine runs that repository's hooks here.
	pushes bool
	// refuse says why the command line itself makes the check impossible
	// (it sets configuration, or an option is not understood); "" if not.
	refuse string
}

// repoArgCommands take repositories as arguments rather than working in
// the current one; receive-pack runs that repository's hooks.
var repoArgCommands = map[string]bool{"receive-pack": true, "upload-pack": true, "upload-archive": true}

// pushCommands run git receive-pack, with the remote repository's hooks,
// when the remote is a path on this machine.
var pushCommands = map[string]bool{"push": true, "send-pack": true}

// opaqueCommands serve repositories found by their own arguments or
// environment; what they run cannot be told from here.
var opaqueCommands = map[string]bool{"shell": true, "daemon": true, "http-backend": true}

// parseGit reads git's command line. dashed is the subcommand a git-NAME
// program acts as ("" for git itself); args follow argv[0].
func parseGit(dashed string, args []string, workdir string) gitCommand {
	c := gitCommand{dir: workdir, sub: dashed}
	abs := func(p string) string { return under(c.dir, p) }
	i := 0
	if dashed == "" {
		// git's own options, before the subcommand (git.c, handle_options).
		var gitDir, workTree string
		for ; i < len(args); i++ {
			a := args[i]
			if !strings.HasPrefix(a, "-") {
				break
			}
			name, value, hasValue := strings.Cut(a, "=")
			next := func() (string, bool) {
				if hasValue {
					return value, true
				}
				if i+1 < len(args) {
					i++
					return args[i], true
				}
				return "", false
			}
			switch name {
			case "-C":
				if hasValue { // "-C=x" is not an option git knows
					c.refuse = "git option " + a + " not understood"
					return c
				}
				v, ok := next()
				if !ok {
					return c // git fails: no directory given
				}
				if v != "" {
					c.dir = abs(v)
				}
			case "--git-dir":
				if v, ok := next(); ok {
					gitDir = v
				}
			case "--bare":
				if gitDir == "" {
					gitDir = c.dir
				}
			case "--work-tree":
				if v, ok := next(); ok {
					workTree = v
				}
			case "--namespace", "--attr-source", "--super-prefix":
				// Which refs or attributes are used: not where code
				// comes from.
				next()
			case "-c", "--config-env", "--exec-path", "--shallow-file":
				if name == "--exec-path" && !hasValue {
					continue // prints the exec path
				}
				c.refuse = "git's command line sets " + map[string]string{
					"-c": "configuration (-c)", "--config-env": "configuration (--config-env)",
					"--exec-path": "where git finds its commands (--exec-path)", "--shallow-file": "a shallow file (--shallow-file)",
				}[name]
				return c
			case "-p", "--paginate", "-P", "--no-pager", "--no-replace-objects", "--no-lazy-fetch",
				"--no-optional-locks", "--no-advice", "--literal-pathspecs", "--no-literal-pathspecs",
				"--glob-pathspecs", "--noglob-pathspecs", "--icase-pathspecs", "--list-cmds",
				"--html-path", "--man-path", "--info-path", "-v", "--version", "-h", "--help":
			default:
				c.refuse = "git option " + a + " not understood"
				return c
			}
		}
		if gitDir != "" {
			c.gitDir = abs(gitDir)
		}
		if workTree != "" {
			c.workTree = abs(workTree)
		}
		if i < len(args) {
			c.sub = args[i]
			i++
		}
	}
	if opt := programOption(c.sub, args[i:]); opt != "" {
		c.refuse = "git " + c.sub + " " + opt + " names a program for git to run"
		return c
	}
	switch {
	case opaqueCommands[c.sub]:
		c.refuse = "git " + c.sub + " serves repositories named by its own arguments or environment"
	case repoArgCommands[c.sub]:
		for _, a := range args[i:] {
			if !strings.HasPrefix(a, "-") {
				c.repoArgs = append(c.repoArgs, abs(a))
			}
		}
	case pushCommands[c.sub]:
		c.pushes = true
		for ; i < len(args); i++ {
			a := args[i]
			name, _, _ := strings.Cut(a, "=")
			switch {
			case name == "-o" || name == "--push-option":
				if !strings.Contains(a, "=") {
					i++
				}
				continue
			case name == "--repo":
				if v, ok := strings.CutPrefix(a, "--repo="); ok {
					c.addRemote(v, abs)
				}
				continue
			case a == "--":
				continue
			case strings.HasPrefix(a, "-"):
				continue
			}
			c.addRemote(a, abs) // the repository; refspecs follow
			break
		}
	}
	return c
}

// addRemote notes a push's repository argument when it is a path on this
// machine (a remote name or a URL to another host is not).
func (c *gitCommand) addRemote(u string, abs func(string) string) {
	if p, ok := localURL(u); ok && (strings.Contains(u, "/") || strings.HasPrefix(u, ".")) {
		c.repoArgs = append(c.repoArgs, abs(p))
	}
}

// localURL returns the path a remote URL names on this machine: a path,
// or a file:// URL. URLs with another scheme and scp-like host:path are
// remote.
func localURL(u string) (string, bool) {
	if p, ok := strings.CutPrefix(u, "file://"); ok {
		if !strings.HasPrefix(p, "/") {
			return "", false // file://host/...
		}
		return p, true
	}
	if strings.Contains(u, "://") {
		return "", false
	}
	if colon := strings.IndexByte(u, ':'); colon >= 0 {
		if slash := strings.IndexByte(u, '/'); slash < 0 || colon < slash {
			return "", false // host:path
		}
	}
	return u, u != ""
}

// programOption returns the first argument of a subcommand's that names a
// program git runs on this machine (the upload-pack or receive-pack of a
// local remote, archive's --exec), "" if none.
func programOption(sub string, args []string) string {
	for _, a := range args {
		name, _, _ := strings.Cut(a, "=")
		switch {
		case a == "--":
			return ""
		case name == "--upload-pack" || name == "--receive-pack" || name == "--exec":
			return name
		case a == "-u" && (sub == "clone" || sub == "ls-remote" || sub == "fetch-pack"):
			return a
		}
	}
	return ""
}
