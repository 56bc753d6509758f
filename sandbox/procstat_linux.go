package sandbox

import (
	"bytes"
	"os"
	"strings"
)

// procStatFields returns the fields of /proc/PID/stat after the command
// name (the first is the state), false if it cannot be read. The name may
// hold spaces and parentheses; the fields after its last ')' cannot.
func procStatFields(pid string) ([]string, bool) {
	data, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return nil, false
	}
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return nil, false
	}
	return strings.Fields(string(data[i+1:])), true
}
