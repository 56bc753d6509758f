package policy

import (
	"slices"
	"strings"
	"testing"
)

func split(s string) []string { return strings.Fields(s) }

// TestIsDangerous covers Codex 0.97.0's dangerous-command list
// (command_might_be_dangerous), plus the rm spellings Codex misses.
func TestIsDangerous(t *testing.T) {
	dangerous := [][]string{
		split("git reset --hard"), split("git rm x"), split("/usr/bin/git reset"), split("mygit reset"),
		split("git -C repo reset"), split("git -c a=b reset"), split("git --git-dir=x reset"), split("git -Crepo rm x"),
		split("git branch -d x"), split("git branch -D x"), split("git branch --delete x"), split("git branch --delete=x"),
		split("git branch -vd x"), split("git branch -Dvv x"),
		split("git push --force"), split("git push -f"), split("git push -d origin x"), split("git push --force-with-lease"),
		split("git push --force-with-lease=main"), split("git push --force-if-includes"), split("git push --delete origin x"),
		split("git push -uf origin"), split("git push origin +main"), split("git push origin :feature"),
		split("git clean -f"), split("git clean --force"), split("git clean -fdx"), split("git clean -xdf"), split("git clean --force=1"),
		split("rm -f x"), split("rm -rf x"), split("sudo rm -rf x"), split("sudo git reset"),
		// Variants Codex 0.97.0 misses.
		split("rm -fr x"), split("rm -Rf x"), split("rm -fR x"), split("rm -r -f x"), split("rm --recursive --force x"),
		split("rm --force x"), split("rm x -rf"), split("rm -rfv x"), split("rm -v -rf x"), split("/bin/rm -rf x"),
		{"bash", "-lc", "ls && rm -rf x"}, {"/bin/sh", "-c", "git reset --hard"}, {"zsh", "-lc", "sudo rm -f y"},
	}
	safe := [][]string{
		split("env rm -rf x"), split("nice rm -rf x"), split("xargs rm -rf"), {"dash", "-c", "rm -rf x"},
		split("git --force"), split("git checkout ."), split("git stash drop"), split("git commit --amend"),
		split("git rebase -i"), split("git push origin main"), split("git branch -M x"), split("git clean -n"),
		split("git checkout reset"), split("git.exe reset"), split("sudo -u root rm -rf x"), split("sudo"),
		split("rm x"), split("rm -r x"), split("rm -- -f"), split("rm -i x"), {},
		{"bash", "-lc", "rm -rf x > /dev/null"}, {"bash", "-lc", "echo $(rm -rf x)"}, {"bash", "-l", "-c", "rm -rf x"},
	}
	for _, argv := range dangerous {
		if !IsDangerous(argv) {
			t.Errorf("IsDangerous(%q) = false, want true", argv)
		}
	}
	for _, argv := range safe {
		if IsDangerous(argv) {
			t.Errorf("IsDangerous(%q) = true, want false", argv)
		}
	}
}

// TestDangerousPrefix: "always allow" on a dangerous command allows the
// program and its options, never the files it is given; where an operand is
// what makes it dangerous, the whole command.
func TestDangerousPrefix(t *testing.T) {
	for cmd, want := range map[string]string{
		"rm -f conftest.err conftest.c": "rm -f",
		"rm -rf conftest.dir":           "rm -rf",
		"rm -f -r -- x":                 "rm -f -r",
		"rm -v -f x":                    "rm -v -f",
		"/bin/rm -f x":                  "/bin/rm -f",
		"rm x -rf":                      "rm x -rf",
		"git reset --hard HEAD~1":       "git reset --hard",
		"git reset HEAD~1":              "git reset",
		"git -C repo reset --hard":      "git -C repo reset --hard",
		"git push --force origin main":  "git push --force",
		"git push origin +main":         "git push origin +main",
		"git branch -D feature":         "git branch -D",
		"git clean -fdx":                "git clean -fdx",
		"sudo rm -rf /x":                "sudo rm -rf",
		"git -C":                        "",
		"ls -f":                         "",
	} {
		if got := strings.Join(DangerousPrefix(split(cmd)), " "); got != want {
			t.Errorf("DangerousPrefix(%q) = %q, want %q", cmd, got, want)
		}
	}
	script := []string{"bash", "-c", "rm -rf x"}
	if got := DangerousPrefix(script); !slices.Equal(got, script) {
		t.Errorf("DangerousPrefix(%q) = %q, want all of it", script, got)
	}
}

// TestIsKnownSafe covers Codex 0.97.0's known-safe list
// (is_known_safe_command).
func TestIsKnownSafe(t *testing.T) {
	safe := [][]string{
		split("ls -la"), split("/bin/ls"), split("./ls"), split("cat x"), split("grep -r foo ."), split("wc -l"),
		split("numfmt 1"), split("tac x"), split("base64 x"), split("find . -name x"), split("rg foo"),
		split("git status"), split("git log -p"), split("git diff"), split("git show HEAD"), split("git branch"),
		split("git branch --list"), split("git branch -a -v"), split("git branch --format=%(refname)"),
		split("git -C . status"), split("git --no-pager log"), split("git -p diff"),
		split("sed -n 10p x"), split("sed -n 1,5p"),
		{"bash", "-lc", "ls && pwd; echo 'hi there' | wc -l"}, {"zsh", "-lc", "ls"}, {"bash", "-c", "git status"},
	}
	notSafe := [][]string{
		split("base64 -o out"), split("base64 --output=x"), split("base64 -oout"), split("base64 --output x"),
		split("find . -exec rm {} ;"), split("find . -delete"), split("find . -fprint x"),
		split("rg -z foo"), split("rg --search-zip x"), split("rg --pre cat x"), split("rg --pre=cat x"), split("rg --hostname-bin=x"),
		split("git -c core.pager=x log"), split("git -ccore.pager=x log"), split("git --config-env=a=b status"),
		split("git fetch"), split("git checkout status"), split("git blame x"), split("git rev-parse HEAD"),
		split("git log --output=x"), split("git diff --ext-diff"), split("git show --textconv"), split("git log --exec=x"),
		split("git branch newb"), split("git branch -d x"), split("git"),
		split("sed -n 10p x y"), split("sed -i 1p x"), split("sed -n 1d x"),
		split("date"), split("printf x"), split("env"), split("sort"), split("awk 1"), split("sudo ls"), split("python3"),
		{"bash", "-lc", ""}, {"bash", "-lc", "ls && rm x"}, {"bash", "-lc", "ls > x"}, {"dash", "-c", "ls"}, {},
	}
	for _, argv := range safe {
		if !IsKnownSafe(argv) {
			t.Errorf("IsKnownSafe(%q) = false, want true", argv)
		}
	}
	for _, argv := range notSafe {
		if IsKnownSafe(argv) {
			t.Errorf("IsKnownSafe(%q) = true, want false", argv)
		}
	}
}

func TestShellCommands(t *testing.T) {
	tests := []struct {
		argv []string
		n    int
		ok   bool
	}{
		{[]string{"bash", "-lc", "ls && pwd"}, 2, true},
		{[]string{"/bin/bash", "-c", "ls"}, 1, true},
		{[]string{"/usr/bin/zsh", "-lc", "ls"}, 1, true},
		{[]string{"bash.exe", "-lc", "ls"}, 1, true},
		{[]string{"sh", "-c", ""}, 0, true},
		{[]string{"fish", "-c", "ls"}, 0, false},
		{[]string{"bash", "-lic", "ls"}, 0, false},
		{[]string{"bash", "-lc", "ls", "x"}, 0, false},
		{[]string{"bash", "-lc", "(ls)"}, 0, false},
	}
	for _, tt := range tests {
		cmds, ok := ShellCommands(tt.argv)
		if ok != tt.ok || len(cmds) != tt.n {
			t.Errorf("ShellCommands(%q) = %q, %v", tt.argv, cmds, ok)
		}
	}
}
