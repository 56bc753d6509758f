// Command multicall stands for the programs that choose what to do by the
// name they are run as (busybox, git's dashed forms): run as "evil" it
// runs its first argument with /bin/sh, under any other name it only says
// so. The security tests install it where no sandbox can write and allow
// it by a rule.
package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

func main() {
	name := filepath.Base(os.Args[0])
	if name != "evil" || len(os.Args) < 2 {
		fmt.Printf("multicall: harmless, run as %s\n", name)
		return
	}
	cmd := exec.Command("/bin/sh", "-c", os.Args[1])
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "multicall:", err)
		os.Exit(1)
	}
}
