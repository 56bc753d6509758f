#include "textflag.h"

// earlyEntry is the process entry point of binaries linked with
//
//	-ldflags=-E=github.com/execgate/execgate/wrapper.earlyEntry
//
// It runs before the Go runtime, which replaces most inherited SIG_IGN
// dispositions with its own handler and unblocks several signals before any Go
// code can look. It records the inherited mask and which signals were
// ignored, then jumps to the runtime's normal entry with the registers and
// stack exactly as the kernel left them (only AX, CX, DX, SI, DI, R10, R11 and
// R12 are used; the ABI promises nothing else in them at process entry).
TEXT ·earlyEntry(SB),NOSPLIT|NOFRAME,$0
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
