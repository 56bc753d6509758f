package repotrust

import "golang.org/x/sys/unix"

// lstatStamp is lstat(2) of p.
func lstatStamp(p string) (stamp, error) {
	var st unix.Stat_t
	if err := unix.Lstat(p, &st); err != nil {
		return stamp{}, err
	}
	return toStamp(&st), nil
}

// statStamp is stat(2) of p.
func statStamp(p string) (stamp, error) {
	var st unix.Stat_t
	if err := unix.Stat(p, &st); err != nil {
		return stamp{}, err
	}
	return toStamp(&st), nil
}

func toStamp(st *unix.Stat_t) stamp {
	return stamp{
		id:    fileID{dev: uint64(st.Dev), ino: st.Ino},
		mode:  st.Mode,
		uid:   st.Uid,
		size:  st.Size,
		mtime: st.Mtim.Nano(),
		ctime: st.Ctim.Nano(),
	}
}
