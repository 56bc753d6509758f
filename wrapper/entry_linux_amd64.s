#include "textflag.h"

// earlyEntry is the process entry point of binaries linked with
//
//	-ldflags=-E=github.com/execgate/execgate/wrapper.earlyEntry
//
// It runs before the Go runtime, which replaces most inherited SIG_IGN
// dispositions with its own handler and unblocks several signals before any Go
// code can look. It first tries the fast path (fastpath_linux_amd64.s),
// which execs the program itself when the server answers Run, ends the
// process itself after an Escalate it sees through, and otherwise returns
// here. Only then, for the Go code, it records the inherited mask and which
// signals were ignored (65 syscalls the fast path's own exec does without):
// whenever the Go code may still exec in place (nothing sent, an answer
// other than Escalate, a failed execve after Run), fastRun has left the
// signal state as inherited; only after an Escalate answer, after which
// nothing is exec'd in place, may it have changed it. Then it jumps to the
// runtime's normal entry with the stack exactly as the kernel left it (the
// fast path only reads it, and its CALLs use the free space below SP).
// General registers are scratch: the ABI promises nothing in them at
// process entry but the stack pointer (RDX, the atexit pointer, is 0 for a
// static binary and the runtime ignores it).
TEXT ·earlyEntry(SB),NOSPLIT|NOFRAME,$0
	MOVQ	SP, BX
	CALL	·fastRun(SB)
	// rt_sigprocmask(SIG_BLOCK, NULL, &entryMask, 8)
	MOVQ	$14, AX
	MOVQ	$0, DI
	MOVQ	$0, SI
	LEAQ	·entryMask(SB), DX
	MOVQ	$8, R10
	SYSCALL
	CMPQ	AX, $0
	JNE	done
	MOVQ	$1, R12
loop:
	// rt_sigaction(R12, NULL, &entryAction, 8)
	MOVQ	$13, AX
	MOVQ	R12, DI
	MOVQ	$0, SI
	LEAQ	·entryAction(SB), DX
	MOVQ	$8, R10
	SYSCALL
	CMPQ	AX, $0
	JNE	next
	MOVQ	·entryAction(SB), AX
	CMPQ	AX, $1 // SIG_IGN
	JNE	next
	MOVQ	R12, CX
	DECQ	CX
	MOVQ	$1, AX
	SHLQ	CX, AX
	ORQ	AX, ·entryIgnored(SB)
next:
	INCQ	R12
	CMPQ	R12, $65
	JLT	loop
	MOVQ	$1, ·entryCaptured(SB)
done:
	JMP	_rt0_amd64_linux(SB)
