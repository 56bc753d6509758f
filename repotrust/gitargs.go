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
	// refuse says why the command line itself makes the check impossible
	// (it sets configuration, or an option is not understood); "" if not.
	refuse string
}

// repoArgCommands take repositories as arguments rather than working in
// the current one; receive-pack runs that repository's hooks.
var repoArgCommands = map[string]bool{"receive-pack": true, "upload-pack": true, "upload-archive": true}

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
	switch {
	case opaqueCommands[c.sub]:
		c.refuse = "git " + c.sub + " serves repositories named by its own arguments or environment"
	case repoArgCommands[c.sub]:
		for _, a := range args[i:] {
			if !strings.HasPrefix(a, "-") {
				c.repoArgs = append(c.repoArgs, abs(a))
			}
		}
	}
	return c
}
