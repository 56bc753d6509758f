package engine

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// pseudoFilesystems are kernel filesystems whose "regular" files are
// interfaces, not storage: /proc/version takes a write and keeps nothing.
var pseudoFilesystems = map[int64]string{
	unix.PROC_SUPER_MAGIC:    "proc",
	unix.SYSFS_MAGIC:         "sysfs",
	unix.DEBUGFS_MAGIC:       "debugfs",
	unix.TRACEFS_MAGIC:       "tracefs",
	unix.SECURITYFS_MAGIC:    "securityfs",
	unix.CGROUP_SUPER_MAGIC:  "cgroup",
	unix.CGROUP2_SUPER_MAGIC: "cgroup2",
	unix.BPF_FS_MAGIC:        "bpf",
	unix.EFIVARFS_MAGIC:      "efivarfs",
	unix.PSTOREFS_MAGIC:      "pstore",
	unix.SELINUX_MAGIC:       "selinuxfs",
	unix.DEVPTS_SUPER_MAGIC:  "devpts",
}

// onDiskFilesystem refuses a file on a kernel pseudo filesystem.
func onDiskFilesystem(f *os.File) error {
	var st unix.Statfs_t
	if err := unix.Fstatfs(int(f.Fd()), &st); err != nil {
		return fmt.Errorf("statfs: %w", err)
	}
	if name, ok := pseudoFilesystems[int64(st.Type)]; ok {
		return fmt.Errorf("on a %s filesystem, which keeps nothing written to it", name)
	}
	return nil
}
