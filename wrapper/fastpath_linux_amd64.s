#include "textflag.h"

// The Run and Escalate fast path: the wrapper's common cases answered before
// the Go runtime starts.
//
// Why: the wrapper must add less than 1 ms per program start over plain
// Bash. Measured on the reference VM, a static C program that only execve()s
// /bin/true already costs +0.6 ms (the exec floor), the Go runtime's start-up
// and its extra threads another ~0.45 ms, the protocol ~0.1 ms: 1.3 ms in
// all. Only skipping the runtime gets under the target. So earlyEntry
// (entry_linux_amd64.s) calls fastRun, which does the whole Run round trip
// with raw syscalls and static buffers and, on the exact Run answer, execs
// FILE itself. Everything else (other answers, errors, input it cannot encode
// without escaping) goes to the Go code in wrapper_linux.go, either from
// scratch (nothing was sent) or through the handover variables in
// fastpath_linux_amd64.go (the request was sent; Go reads the answer).
//
// Transparency: the runtime never ran, so the inherited signal dispositions,
// signal mask, RLIMIT_NOFILE and descriptors 0-2 reach FILE untouched. The
// one descriptor this code creates and keeps (the stream) is close-on-exec.
//
// The request is byte-for-byte what escalate.AppendRequest builds, except
// that the environment is in envp order (AppendRequest iterates a map; the
// decoded Request is the same). Strings are copied verbatim, so FILE, ARGV,
// the working directory and the environment must need no JSON escape: only
// printable ASCII other than '"' and '\', and valid UTF-8 other than U+2028
// and U+2029; anything else falls back before any socket work. Also falling
// back: an empty environment entry or a repeated variable
// name, because Go's os.Environ (what the Go path sends and execs with) drops
// those, and FILE must get the same environment either way.
//
// Escalate: the Go path (superExec in escalate_linux.go) cost ~2.3 ms over
// plain Bash per escalated program on the reference VM, mostly the runtime's
// start and its threads; this path costs ~0.7 ms. On the exact Escalate
// answer it does what superExec does, in the same order and with the same
// bytes on the wire: catch the forwarded signals (blocked, read from a
// signalfd, where superExec uses signal.Notify), send SuperExec with
// descriptors 0-2, forward each caught signal as a Forward frame while it
// waits, and end as the result says (dieBySignal's steps, or exit_code &
// 0xff). Only the two result forms the server writes are decoded here;
// any other frame, end of file or error is left to Go's readResult, which
// decodes or reports it (handoverEscalated and the kinds after it). Where
// it knowingly differs from the Go path while it waits: the forwarded
// signals are blocked in the wrapper (SigBlk in its /proc status; nothing
// inherits that mask, as nothing is exec'd or forked); a fault-class
// signal sent with kill(2) (ABRT, ILL, TRAP, SYS, BUS, FPE, SEGV, STKFLT)
// kills the wrapper by that signal where the runtime would print a
// goroutine dump and exit 2; and after a handover, for the runtime's start
// only (the command has ended by then, or never started), the forwarded
// signals act as the runtime has them before os/signal is set up (see
// esc_restore). Signals the runtime drops are ignored, as with it, and the
// job-control ones stop the wrapper, as with it.
//
// fastRun's sections: 1 role check, 2 socket variable, 3 getcwd, 4 build
// the request, 5 handshake, 6 send, 7 peek at the answer, 8 execve (Run),
// 9 escalate. Before 5 any failure returns with nothing changed (Go starts
// from scratch); from 5 on, fastState tells Go where to continue
// (handover.go).
//
// Registers in fastRun (the helpers below say what they use):
//
//	BX   the initial stack pointer, as the kernel left it: 0(BX) argc,
//	     8(BX) argv[0] ... argv[argc-1], NULL, then envp ..., NULL.
//	     Nothing here writes to the stack above it.
//	R12  argc; then sendmsg's result; then the send cursor
//	R13  &envp[0]
//	R14  the CODEX_ESCALATE_SOCKET descriptor, later the stream descriptor
//	R8   slot cursor over argv / envp while building; then the send end
//	DI   write cursor in fastReq while building
//	R9   write limit (fastReq's end minus reqSlack)
//	AX, CX, DX, SI, R10, R11: scratch (SYSCALL clobbers AX, CX, R11).
//
// Section 9 keeps R14 (the stream) and uses R12 and R8 as a send's cursor
// and end (then R12 is the handover state), R13 as the result frame's
// length (then the exit status), R8 and R9 as the result's exit_code and
// signal; BX and the argv/envp slots are no
// longer needed there.

// Linux amd64 syscall numbers and constants.
#define SYS_read	0
#define SYS_close	3
#define SYS_poll	7
#define SYS_rt_sigaction	13
#define SYS_rt_sigprocmask	14
#define SYS_getpid	39
#define SYS_gettid	186
#define SYS_exit_group	231
#define SYS_tgkill	234
#define SYS_signalfd4	289
#define SYS_sendmsg	46
#define SYS_recvmsg	47
#define SYS_socketpair	53
#define SYS_execve	59
#define SYS_getcwd	79
#define AF_UNIX	1
#define SOCK_STREAM_CLOEXEC	0x80001
#define SOL_SOCKET	1
#define SCM_RIGHTS	1
#define MSG_PEEK	0x2
#define MSG_CTRUNC	0x8
#define MSG_WAITALL	0x100
#define MSG_NOSIGNAL	0x4000
#define EINTR	4
#define EAGAIN	11
#define SIG_BLOCK	0
#define SIG_UNBLOCK	1
#define SIG_SETMASK	2
#define SFD_CLOEXEC_NONBLOCK	0x80800
#define POLLIN	1

// fastReq is 4 bytes of frame header, then the payload. The string copier
// checks the write cursor against the end minus reqSlack before every byte;
// the fixed punctuation written between two checks is far shorter.
#define reqSize	131072
#define reqSlack	64
#define cwdSize	4096

// Handover states (fastState), mirrored in fastpath_linux_amd64.go.
#define stateStream	1
#define stateSendFailed	2
#define stateExecFailed	3
#define stateDialFailed	4
#define stateEscalated	5
#define stateSuperExecFailed	6
#define stateResultFailed	7

// The forwarded signals (escalate_linux.go's forwardedSignals), bit N-1 for
// signal N: HUP 1, INT 2, QUIT 3, TERM 15, WINCH 28.
#define forwardedSet	0x8004007
// The signals the Go runtime's handler drops when os/signal does not want
// them (sigtable flags _SigNotify alone, SIGPROF, and 33, the per-thread
// syscall signal): USR1 10, USR2 12, PIPE 13, ALRM 14, XCPU 24, XFSZ 25,
// VTALRM 26, PROF 27, IO 29, PWR 30, 33, 35-64. The Go path survives them
// while it waits for the result, so the Escalate fast path ignores them.
#define runtimeDropped	0xFFFFFFFD37803A00
// Payload bounds for the SuperExecResult the fast path parses: the longest
// form it accepts, {"exit_code":-N,"signal":-M} with 18 digits each, is 62
// bytes; fastResult leaves room for the literal compares to read past a
// short payload without leaving the buffer.
#define resultMax	96
#define resultPeek	128

// The fixed parts of the request, NUL-terminated.
DATA litFile<>+0(SB)/8, $"{\"file\":"
DATA litFile<>+8(SB)/1, $0
GLOBL litFile<>(SB), RODATA, $9
DATA litArgv<>+0(SB)/8, $",\"argv\":"
DATA litArgv<>+8(SB)/2, $"[\x00"
GLOBL litArgv<>(SB), RODATA, $10
DATA litWorkdir<>+0(SB)/8, $"],\"workd"
DATA litWorkdir<>+8(SB)/5, $"ir\":\x00"
GLOBL litWorkdir<>(SB), RODATA, $13
DATA litEnv<>+0(SB)/8, $",\"env\":{"
DATA litEnv<>+8(SB)/1, $0
GLOBL litEnv<>(SB), RODATA, $9
DATA litEnd<>+0(SB)/3, $"}}\x00"
GLOBL litEnd<>(SB), RODATA, $3

// The wrapper role's names (main.go's wrapperNames) and the socket variable.
DATA nameCodex<>+0(SB)/8, $"codex-ex"
DATA nameCodex<>+8(SB)/8, $"ecve-wra"
DATA nameCodex<>+16(SB)/5, $"pper\x00"
GLOBL nameCodex<>(SB), RODATA, $21
DATA nameExecgate<>+0(SB)/8, $"execgate"
DATA nameExecgate<>+8(SB)/8, $"-execve-"
DATA nameExecgate<>+16(SB)/8, $"wrapper\x00"
GLOBL nameExecgate<>(SB), RODATA, $24
DATA sockPrefix<>+0(SB)/8, $"CODEX_ES"
DATA sockPrefix<>+8(SB)/8, $"CALATE_S"
DATA sockPrefix<>+16(SB)/7, $"OCKET=\x00"
GLOBL sockPrefix<>(SB), RODATA, $23

// The whole Run answer frame: length 16, then {"action":"Run"}.
DATA runFrame<>+0(SB)/4, $0x10
DATA runFrame<>+4(SB)/8, $"{\"action"
DATA runFrame<>+12(SB)/8, $"\":\"Run\"}"
GLOBL runFrame<>(SB), RODATA, $20

// The whole Escalate answer frame: length 21, then {"action":"Escalate"}.
DATA escFrame<>+0(SB)/4, $0x15
DATA escFrame<>+4(SB)/8, $"{\"action"
DATA escFrame<>+12(SB)/8, $"\":\"Escal"
DATA escFrame<>+20(SB)/5, $"ate\"}"
GLOBL escFrame<>(SB), RODATA, $25

// The SuperExec frame superExecPayload builds for fds 0, 1, 2: length 15,
// then {"fds":[0,1,2]}.
DATA superFrame<>+0(SB)/4, $0x0f
DATA superFrame<>+4(SB)/8, $"{\"fds\":["
DATA superFrame<>+12(SB)/7, $"0,1,2]}"
GLOBL superFrame<>(SB), RODATA, $19

// The parts of {"exit_code":N} and {"exit_code":N,"signal":M} (what
// json.Marshal writes for escalate.SuperExecResult, Signal omitted when 0),
// and of the Forward frame {"signal":N}; NUL-terminated.
DATA litExit<>+0(SB)/8, $"{\"exit_c"
DATA litExit<>+8(SB)/6, $"ode\":\x00"
GLOBL litExit<>(SB), RODATA, $14
DATA litSignal<>+0(SB)/8, $",\"signal"
DATA litSignal<>+8(SB)/3, $"\":\x00"
GLOBL litSignal<>(SB), RODATA, $11
DATA litEndObj<>+0(SB)/2, $"}\x00"
GLOBL litEndObj<>(SB), RODATA, $2
DATA litForward<>+0(SB)/8, $"{\"signal"
DATA litForward<>+8(SB)/3, $"\":\x00"
GLOBL litForward<>(SB), RODATA, $11

// Signal sets for rt_sigprocmask and signalfd4 (8 bytes, as the kernel's).
DATA forwardedMask<>+0(SB)/8, $forwardedSet
GLOBL forwardedMask<>(SB), RODATA, $8

// struct sigaction (kernel layout) with sa_handler SIG_DFL or SIG_IGN, no
// flags, empty mask: what dieBySignal installs, and what the fast path
// uses to drop signals.
DATA actDefault<>+0(SB)/8, $0
DATA actDefault<>+8(SB)/8, $0
DATA actDefault<>+16(SB)/8, $0
DATA actDefault<>+24(SB)/8, $0
GLOBL actDefault<>(SB), RODATA, $32
DATA actIgnore<>+0(SB)/8, $1
DATA actIgnore<>+8(SB)/8, $0
DATA actIgnore<>+16(SB)/8, $0
DATA actIgnore<>+24(SB)/8, $0
GLOBL actIgnore<>(SB), RODATA, $32

// fastRun tries the fast path. It returns (to earlyEntry, which then
// starts the runtime) whenever Go must take over; on success it never
// returns. In: BX = the initial stack pointer.
TEXT ·fastRun(SB),NOSPLIT|NOFRAME,$0-0
	// --- 1. The wrapper role: argc >= 3, basename(argv[0]) is ours.
	MOVQ	0(BX), R12
	CMPQ	R12, $3
	JLT	fallback
	MOVQ	8(BX), SI
	MOVQ	SI, DX // DX: start of the basename
base_scan:
	MOVBLZX	(SI), AX
	TESTB	AL, AL
	JZ	base_found
	INCQ	SI
	CMPB	AL, $'/'
	JNE	base_scan
	MOVQ	SI, DX
	JMP	base_scan
base_found:
	MOVQ	DX, SI
	LEAQ	nameCodex<>(SB), DI
	CALL	strEq<>(SB)
	TESTQ	AX, AX
	JNZ	role_ok
	MOVQ	DX, SI
	LEAQ	nameExecgate<>(SB), DI
	CALL	strEq<>(SB)
	TESTQ	AX, AX
	JZ	fallback
role_ok:
	LEAQ	16(BX)(R12*8), R13 // past argc, argv[0..argc-1] and NULL

	// --- 2. CODEX_ESCALATE_SOCKET=<1 to 9 decimal digits> (the first one;
	// a repeated name falls back below anyway).
	MOVQ	R13, R8
sock_scan:
	MOVQ	(R8), SI
	TESTQ	SI, SI
	JZ	fallback // not set: Go reports it
	LEAQ	sockPrefix<>(SB), DI
	CALL	hasPrefix<>(SB)
	TESTQ	AX, AX
	JNZ	sock_digits
	ADDQ	$8, R8
	JMP	sock_scan
sock_digits:
	XORL	R14, R14
	XORL	CX, CX // digit count
sock_digit:
	MOVBLZX	(SI), AX
	TESTB	AL, AL
	JZ	sock_end
	SUBL	$'0', AX
	CMPL	AX, $9
	JA	fallback // not a digit (unsigned: below '0' wraps)
	IMULQ	$10, R14
	ADDQ	AX, R14
	INCQ	SI
	INCQ	CX
	CMPQ	CX, $9
	JA	fallback
	JMP	sock_digit
sock_end:
	TESTQ	CX, CX
	JZ	fallback

	// --- 3. getcwd(2): the physical path, absolute (as unix.Getwd insists).
	MOVQ	$SYS_getcwd, AX
	LEAQ	·fastCwd(SB), DI
	MOVQ	$cwdSize, SI
	SYSCALL
	CMPQ	AX, $0
	JLE	fallback
	CMPB	·fastCwd(SB), $'/'
	JNE	fallback

	// --- 4. The request: {"file":F,"argv":[...],"workdir":W,"env":{...}}
	LEAQ	·fastReq+4(SB), DI
	LEAQ	·fastReq(SB), R9
	ADDQ	$(reqSize-reqSlack), R9
	LEAQ	litFile<>(SB), SI
	CALL	putLit<>(SB)
	MOVQ	16(BX), SI // argv[1]: FILE
	XORL	DX, DX
	CALL	quote<>(SB)
	TESTQ	AX, AX
	JNZ	fallback
	LEAQ	litArgv<>(SB), SI
	CALL	putLit<>(SB)
	LEAQ	24(BX), R8 // &argv[2]: ARGV0
argv_next:
	MOVQ	(R8), SI
	TESTQ	SI, SI
	JZ	argv_done
	LEAQ	24(BX), AX
	CMPQ	R8, AX
	JEQ	argv_quote
	MOVB	$',', (DI)
	INCQ	DI
argv_quote:
	XORL	DX, DX
	CALL	quote<>(SB)
	TESTQ	AX, AX
	JNZ	fallback
	ADDQ	$8, R8
	JMP	argv_next
argv_done:
	LEAQ	litWorkdir<>(SB), SI
	CALL	putLit<>(SB)
	LEAQ	·fastCwd(SB), SI
	XORL	DX, DX
	CALL	quote<>(SB)
	TESTQ	AX, AX
	JNZ	fallback
	LEAQ	litEnv<>(SB), SI
	CALL	putLit<>(SB)
	MOVQ	R13, R8
env_next:
	MOVQ	(R8), SI
	TESTQ	SI, SI
	JZ	env_done
	CMPB	(SI), $0
	JEQ	fallback // "": os.Environ drops it
	MOVQ	SI, CX
env_find_eq:
	MOVBLZX	(CX), AX
	TESTB	AL, AL
	JZ	env_skip // no '=': not sent (but FILE gets it, as in Go)
	CMPB	AL, $'='
	JEQ	env_named
	INCQ	CX
	JMP	env_find_eq
env_named:
	CALL	nameSeen<>(SB)
	TESTQ	AX, AX
	JNZ	fallback // repeated name: os.Environ keeps only the first
	CMPB	-1(DI), $'{'
	JEQ	env_quote // the first variable: no comma
	MOVB	$',', (DI)
	INCQ	DI
env_quote:
	MOVQ	$'=', DX
	CALL	quote<>(SB) // the name, up to the first '='
	TESTQ	AX, AX
	JNZ	fallback
	MOVB	$':', (DI)
	INCQ	DI
	INCQ	SI // past the '='
	XORL	DX, DX
	CALL	quote<>(SB) // the value
	TESTQ	AX, AX
	JNZ	fallback
env_skip:
	ADDQ	$8, R8
	JMP	env_next
env_done:
	LEAQ	litEnd<>(SB), SI
	CALL	putLit<>(SB)
	LEAQ	·fastReq+4(SB), AX
	MOVQ	DI, CX
	SUBQ	AX, CX
	MOVL	CX, ·fastReq(SB) // frame header: payload length, little-endian

	// --- 5. The handshake: socketpair, send one end as a 0x00 datagram.
	MOVQ	$SYS_socketpair, AX
	MOVQ	$AF_UNIX, DI
	MOVQ	$SOCK_STREAM_CLOEXEC, SI
	XORL	DX, DX
	LEAQ	·fastPair(SB), R10
	SYSCALL
	CMPQ	AX, $0
	JNE	fallback
	// A closed stdin/stdout/stderr would hand the stream one of 0-2, where
	// Go code after a handover would take it for a standard stream (the
	// runtime only opens /dev/null on the closed ones). Let Go do it all.
	CMPL	·fastPair(SB), $3
	JLT	close_pair
	CMPL	·fastPair+4(SB), $3
	JLT	close_pair
	// struct msghdr: iov = {&fastHandshake, 1}, control = fastCmsg.
	LEAQ	·fastHandshake(SB), AX
	MOVQ	AX, ·fastIov(SB)
	MOVQ	$1, ·fastIov+8(SB)
	LEAQ	·fastIov(SB), AX
	MOVQ	AX, ·fastMsg+16(SB) // msg_iov
	MOVQ	$1, ·fastMsg+24(SB) // msg_iovlen
	LEAQ	·fastCmsg(SB), AX
	MOVQ	AX, ·fastMsg+32(SB) // msg_control
	MOVQ	$24, ·fastMsg+40(SB) // msg_controllen: CMSG_SPACE(4)
	// struct cmsghdr: len CMSG_LEN(4), SOL_SOCKET, SCM_RIGHTS, the fd.
	MOVQ	$20, ·fastCmsg(SB)
	MOVL	$SOL_SOCKET, ·fastCmsg+8(SB)
	MOVL	$SCM_RIGHTS, ·fastCmsg+12(SB)
	MOVL	·fastPair+4(SB), AX
	MOVL	AX, ·fastCmsg+16(SB)
handshake:
	MOVQ	$SYS_sendmsg, AX
	MOVQ	R14, DI
	LEAQ	·fastMsg(SB), SI
	MOVQ	$MSG_NOSIGNAL, DX
	SYSCALL
	CMPQ	AX, $-EINTR
	JEQ	handshake
	MOVQ	AX, R12
	MOVQ	$SYS_close, AX
	MOVLQSX	·fastPair+4(SB), DI
	SYSCALL
	MOVLQSX	·fastPair(SB), R14 // from here on R14 is the stream
	CMPQ	R12, $0
	JLT	dial_failed

	// --- 6. Send the frame (header and payload). fastMsg still points at
	// fastIov (one entry); only the control part of the handshake is
	// cleared.
	MOVQ	$0, ·fastMsg+32(SB) // msg_control
	MOVQ	$0, ·fastMsg+40(SB) // msg_controllen
	LEAQ	·fastReq(SB), R12
	MOVL	·fastReq(SB), R8
	LEAQ	·fastReq+4(SB), AX
	ADDQ	AX, R8 // the frame's end
	CALL	sendAll<>(SB)
	TESTQ	AX, AX
	JNZ	send_failed

	// --- 7. Peek at the answer: the exact Run or Escalate frame, or hand
	// over. The peek blocks until the first data arrives, as Go's ReadFrame
	// would, but never waits for more once the queue holds some: a frame
	// the server wrote in pieces is left to Go (correct, just not fast;
	// escalate.WriteFrame sends a frame in one piece). recvmsg, not
	// recvfrom, for msg_flags: descriptors sent with the answer (a
	// protocol error Go reports) show as MSG_CTRUNC, as no control buffer
	// is given; none are received.
	LEAQ	·fastAnswer(SB), AX
	MOVQ	AX, ·fastIov(SB)
	MOVQ	$25, ·fastIov+8(SB) // the longer of the two frames
	MOVQ	$0, ·fastMsg+32(SB) // msg_control
	MOVQ	$0, ·fastMsg+40(SB) // msg_controllen
	MOVL	$0, ·fastMsg+48(SB) // msg_flags
	MOVQ	$MSG_PEEK, DX
	CALL	recvMsg<>(SB)
	CMPQ	AX, $20
	JLT	handover // EOF, error, a short or split answer: Go reads it
	TESTL	$MSG_CTRUNC, ·fastMsg+48(SB)
	JNZ	handover
	MOVQ	AX, R12 // bytes peeked
	MOVQ	·fastAnswer(SB), AX
	CMPQ	AX, runFrame<>(SB)
	JNE	not_run
	MOVQ	·fastAnswer+8(SB), AX
	CMPQ	AX, runFrame<>+8(SB)
	JNE	not_run
	MOVL	·fastAnswer+16(SB), AX
	CMPL	AX, runFrame<>+16(SB)
	JEQ	run
not_run:
	CMPQ	R12, $25
	JLT	handover
	MOVQ	·fastAnswer(SB), AX
	CMPQ	AX, escFrame<>(SB)
	JNE	handover
	MOVQ	·fastAnswer+8(SB), AX
	CMPQ	AX, escFrame<>+8(SB)
	JNE	handover
	MOVQ	·fastAnswer+16(SB), AX
	CMPQ	AX, escFrame<>+16(SB)
	JNE	handover
	MOVB	·fastAnswer+24(SB), AX
	CMPB	AX, escFrame<>+24(SB)
	JNE	handover
	JMP	escalate
run:
	MOVQ	$20, ·fastIov+8(SB) // consume the Run frame only
	// Read the frame for real: closing a unix socket with unread data
	// makes the server see ECONNRESET instead of a clean EOF.
	// fastMsg's iov covers fastAnswer's first 20 bytes.
	MOVQ	$MSG_WAITALL, DX
	CALL	recvMsg<>(SB)
	CMPQ	AX, $20
	JNE	handover // cannot happen after the peek; Go fails closed

	// --- 8. Run: execve(FILE, &argv[2], envp). The stream closes on exec.
	MOVQ	$SYS_execve, AX
	MOVQ	16(BX), DI
	LEAQ	24(BX), SI
	MOVQ	R13, DX
	SYSCALL
	NEGQ	AX
	MOVQ	AX, ·fastErrno(SB)
	MOVQ	R14, ·fastStream(SB)
	MOVQ	$stateExecFailed, ·fastState(SB)
	RET

	// --- 9. Escalate: superExec (escalate_linux.go) without the runtime.
	// Descriptors 0-2 are all open here, as the Go path has them: a closed
	// one would have become the stream in section 5, which then left
	// everything to Go (whose runtime opens /dev/null there first).
	//
	// 9a. Catch the forwarded signals before the command can start, as
	// signal.Notify does: block them and read them from a signalfd. A
	// blocked signal is queued even when its disposition is SIG_IGN, so
	// an inherited SIG_IGN on INT or HUP (nohup, trap '' INT) does not stop
	// the forwarding; neither does it on the Go path, whose Notify catches
	// them too. The mask is never restored on the way out (the wrapper
	// never execs on this path and its mask dies with it), only before a
	// handover (esc_restore).
escalate:
	MOVQ	$SYS_rt_sigprocmask, AX
	MOVQ	$SIG_BLOCK, DI
	LEAQ	forwardedMask<>(SB), SI
	LEAQ	·fastOldMask(SB), DX
	MOVQ	$8, R10
	SYSCALL
	CMPQ	AX, $0
	JNE	handover // nothing changed, the answer unread: Go escalates
	MOVQ	$SYS_signalfd4, AX
	MOVQ	$-1, DI
	LEAQ	forwardedMask<>(SB), SI
	MOVQ	$8, DX
	MOVQ	$SFD_CLOEXEC_NONBLOCK, R10
	SYSCALL
	CMPQ	AX, $0
	JLT	esc_unblock
	MOVQ	AX, ·fastSigfd(SB)
	// While the Go path waits, its runtime drops the signals it has no use
	// for (runtimeDropped); with their default action they would kill
	// this wrapper instead.
	MOVQ	$runtimeDropped, R8
	CALL	ignoreSet<>(SB)

	// 9b. Consume the Escalate frame (the peek saw all of it).
	LEAQ	·fastAnswer(SB), AX
	MOVQ	AX, ·fastIov(SB)
	MOVQ	$25, ·fastIov+8(SB)
	MOVQ	$MSG_WAITALL, DX
	CALL	recvMsg<>(SB)
	CMPQ	AX, $25
	JNE	esc_unread // cannot happen after the peek; Go fails closed

	// 9c. SuperExec: the frame superExecPayload builds, with descriptors
	// 0, 1, 2 in SCM_RIGHTS on its first bytes (as WriteFrame sends them:
	// one cmsghdr, CMSG_LEN(12) = 28, CMSG_SPACE(12) = 32).
	MOVQ	$28, ·fastCmsg(SB)
	MOVL	$SOL_SOCKET, ·fastCmsg+8(SB)
	MOVL	$SCM_RIGHTS, ·fastCmsg+12(SB)
	MOVL	$0, ·fastCmsg+16(SB)
	MOVL	$1, ·fastCmsg+20(SB)
	MOVL	$2, ·fastCmsg+24(SB)
	MOVL	$0, ·fastCmsg+28(SB)
	LEAQ	·fastCmsg(SB), AX
	MOVQ	AX, ·fastMsg+32(SB) // msg_control
	MOVQ	$32, ·fastMsg+40(SB) // msg_controllen
	LEAQ	superFrame<>(SB), R12
	LEAQ	superFrame<>+19(SB), R8
	CALL	sendAll<>(SB) // the rights go with the first bytes
	TESTQ	AX, AX
	JNZ	super_failed

	// 9d. Wait for the result, forwarding each caught signal meanwhile:
	// poll(2) on {stream, signalfd}. Forwarding stops for good when a
	// Forward frame cannot be sent (the signalfd's slot becomes -1, which
	// poll skips), as forwardSignals returns then; the signals stay
	// blocked and caught, as Notify keeps catching them.
	MOVL	R14, ·fastPoll(SB) // pollfd[0].fd: the stream
	MOVW	$POLLIN, ·fastPoll+4(SB)
	MOVQ	·fastSigfd(SB), AX
	MOVL	AX, ·fastPoll+8(SB) // pollfd[1].fd: the signalfd
	MOVW	$POLLIN, ·fastPoll+12(SB)
wait:
	MOVQ	$SYS_poll, AX
	LEAQ	·fastPoll(SB), DI
	MOVQ	$2, SI
	MOVQ	$-1, DX
	SYSCALL
	CMPQ	AX, $-EINTR
	JEQ	wait
	CMPQ	AX, $0
	JLT	esc_handover // cannot happen; Go's blocking read does the wait
	MOVWLZX	·fastPoll+14(SB), AX
	TESTL	AX, AX
	JNZ	sig_read
	MOVWLZX	·fastPoll+6(SB), AX
	TESTL	AX, AX
	JNZ	result
	JMP	wait

sig_read:
	// One struct signalfd_siginfo (128 bytes); ssi_signo is its first u32.
	MOVQ	$SYS_read, AX
	MOVQ	·fastSigfd(SB), DI
	LEAQ	·fastSiginfo(SB), SI
	MOVQ	$128, DX
	SYSCALL
	CMPQ	AX, $-EINTR
	JEQ	sig_read
	CMPQ	AX, $-EAGAIN
	JEQ	wait
	CMPQ	AX, $128
	JNE	fwd_off
	// The Forward frame, as forwardSignals builds it: {"signal":N}.
	LEAQ	·fastFwd+4(SB), DI
	LEAQ	litForward<>(SB), SI
	CALL	putLit<>(SB)
	MOVL	·fastSiginfo(SB), AX // 1..28: only the forwarded set arrives
	CMPL	AX, $10
	JLT	fwd_units
	XORL	DX, DX
	MOVL	$10, CX
	DIVL	CX
	ADDL	$'0', AX
	MOVB	AX, (DI)
	INCQ	DI
	MOVL	DX, AX
fwd_units:
	ADDL	$'0', AX
	MOVB	AX, (DI)
	INCQ	DI
	MOVB	$'}', (DI)
	INCQ	DI
	MOVQ	DI, R8 // the frame's end
	LEAQ	·fastFwd+4(SB), AX
	SUBQ	AX, DI
	MOVL	DI, ·fastFwd(SB) // payload length
	LEAQ	·fastFwd(SB), R12
	CALL	sendAll<>(SB)
	TESTQ	AX, AX
	JZ	wait
fwd_off:
	MOVL	$-1, ·fastPoll+8(SB)
	JMP	wait

	// 9e. The result: peek at it and act only on exactly what the server
	// writes, json.Marshal of escalate.SuperExecResult: {"exit_code":N} or
	// {"exit_code":N,"signal":M}, numbers as strconv.AppendInt writes them
	// (up to 18 digits, so no overflow). Anything else (EOF, descriptors
	// with it, a split, long or differently written frame) is left unread
	// to Go's readResult, which decodes or reports it exactly as on the Go
	// path; a receive error, which the peek consumed, goes to Go as errno.
result:
	LEAQ	·fastResult(SB), AX
	MOVQ	AX, ·fastIov(SB)
	MOVQ	$resultPeek, ·fastIov+8(SB)
	MOVL	$0, ·fastMsg+48(SB) // msg_flags
	MOVQ	$MSG_PEEK, DX
	CALL	recvMsg<>(SB)
	CMPQ	AX, $0
	JLT	result_failed
	CMPQ	AX, $4
	JLT	esc_handover // EOF or part of a header
	TESTL	$MSG_CTRUNC, ·fastMsg+48(SB)
	JNZ	esc_handover
	MOVL	·fastResult(SB), CX // the payload length
	CMPQ	CX, $resultMax
	JA	esc_handover
	LEAQ	4(CX), R13 // the frame length
	CMPQ	AX, R13
	JLT	esc_handover // not all here yet
	LEAQ	·fastResult+4(SB), SI
	LEAQ	(SI)(CX*1), R10 // the payload's end
	LEAQ	litExit<>(SB), DI
	CALL	hasPrefix<>(SB)
	TESTQ	AX, AX
	JZ	esc_handover
	CALL	parseInt<>(SB)
	TESTQ	AX, AX
	JNZ	esc_handover
	MOVQ	DX, R8 // exit_code
	XORL	R9, R9 // signal
	CMPQ	SI, R10
	JAE	esc_handover
	CMPB	(SI), $'}'
	JEQ	result_end
	LEAQ	litSignal<>(SB), DI
	CALL	hasPrefix<>(SB)
	TESTQ	AX, AX
	JZ	esc_handover
	CALL	parseInt<>(SB)
	TESTQ	AX, AX
	JNZ	esc_handover
	MOVQ	DX, R9
	CMPQ	SI, R10
	JAE	esc_handover
	CMPB	(SI), $'}'
	JNE	esc_handover
result_end:
	INCQ	SI
	CMPQ	SI, R10
	JNE	esc_handover // something after the object
	// Read the frame for real, as readResult does. The outcome is decided
	// whatever this returns (it cannot fall short after the peek).
	MOVQ	R13, ·fastIov+8(SB)
	MOVQ	$MSG_WAITALL, DX
	CALL	recvMsg<>(SB)

	// 9f. End as superExec does: dieBySignal(signal) when it is not 0,
	// else exit with exit_code & 0xff.
	TESTQ	R9, R9
	JNZ	die
	MOVQ	R8, DI
	ANDQ	$0xff, DI
exit:
	MOVQ	$SYS_exit_group, AX
	SYSCALL
	JMP	exit
die:
	// dieBySignal: 128+M (exit_group keeps its low byte, as os.Exit's
	// does) unless M is 1..64 and terminates by default; then SIG_DFL for
	// M, unblock M, tgkill(self, M), and 128+M only if still alive.
	LEAQ	128(R9), DI
	CMPQ	R9, $1
	JLT	exit
	CMPQ	R9, $64
	JGT	exit
	CMPQ	R9, $28 // SIGWINCH
	JEQ	exit
	CMPQ	R9, $17 // SIGCHLD, CONT, STOP, TSTP, TTIN, TTOU, URG: 17-23
	JLT	kill_self
	CMPQ	R9, $23
	JLE	exit
kill_self:
	MOVQ	DI, R13
	MOVQ	$SYS_rt_sigaction, AX
	MOVQ	R9, DI
	LEAQ	actDefault<>(SB), SI
	XORL	DX, DX
	MOVQ	$8, R10
	SYSCALL
	MOVQ	R9, CX
	DECQ	CX
	MOVQ	$1, AX
	SHLQ	CX, AX
	MOVQ	AX, ·fastSigset(SB)
	MOVQ	$SYS_rt_sigprocmask, AX
	MOVQ	$SIG_UNBLOCK, DI
	LEAQ	·fastSigset(SB), SI
	XORL	DX, DX
	MOVQ	$8, R10
	SYSCALL
	MOVQ	$SYS_getpid, AX
	SYSCALL
	MOVQ	AX, R12
	MOVQ	$SYS_gettid, AX
	SYSCALL
	MOVQ	AX, SI
	MOVQ	$SYS_tgkill, AX
	MOVQ	R12, DI
	MOVQ	R9, DX
	SYSCALL
	MOVQ	R13, DI
	JMP	exit

	// Handovers after the Escalate answer. Go's runtime unblocks INT, HUP,
	// QUIT and TERM on its threads at start, before any os/signal call:
	// a forwarded signal pending then would kill the wrapper, which the Go
	// path (Notify already active) never allows. So the forwarded signals
	// are set to SIG_IGN first, which drops the pending ones (and any that
	// arrive until the mask is restored); the runtime keeps INT and HUP
	// ignored and installs its handler on the others, and the Go code
	// calls signal.Notify again at once (resumeEscalated). R12: the state.
esc_handover:
	MOVQ	$stateEscalated, R12
	JMP	esc_restore
super_failed:
	NEGQ	AX
	MOVQ	AX, ·fastErrno(SB)
	MOVQ	$stateSuperExecFailed, R12
	JMP	esc_restore
result_failed:
	NEGQ	AX
	MOVQ	AX, ·fastErrno(SB)
	MOVQ	$stateResultFailed, R12
	JMP	esc_restore
esc_unread:
	MOVQ	$stateStream, R12
esc_restore:
	MOVQ	$forwardedSet, R8
	CALL	ignoreSet<>(SB)
	MOVQ	$SYS_rt_sigprocmask, AX
	MOVQ	$SIG_SETMASK, DI
	LEAQ	·fastOldMask(SB), SI
	XORL	DX, DX
	MOVQ	$8, R10
	SYSCALL
	MOVQ	$SYS_close, AX
	MOVQ	·fastSigfd(SB), DI
	SYSCALL
	MOVQ	R14, ·fastStream(SB)
	MOVQ	R12, ·fastState(SB)
	RET
esc_unblock:
	// No signalfd: undo the block (nothing was sent and nothing is
	// caught yet, so a pending signal acts as it would on the Go path
	// before Notify) and leave the unread Escalate answer to Go.
	MOVQ	$SYS_rt_sigprocmask, AX
	MOVQ	$SIG_SETMASK, DI
	LEAQ	·fastOldMask(SB), SI
	XORL	DX, DX
	MOVQ	$8, R10
	SYSCALL
	JMP	handover

dial_failed:
	// Nothing reached the server; Go reports the errno (a second try could
	// fail differently: a refused datagram socket then says ENOTCONN).
	MOVQ	$SYS_close, AX
	MOVQ	R14, DI
	SYSCALL
	NEGQ	R12
	MOVQ	R12, ·fastErrno(SB)
	MOVQ	$-1, ·fastStream(SB)
	MOVQ	$stateDialFailed, ·fastState(SB)
	RET
send_failed:
	NEGQ	AX
	MOVQ	AX, ·fastErrno(SB)
	MOVQ	R14, ·fastStream(SB)
	MOVQ	$stateSendFailed, ·fastState(SB)
	RET
handover:
	MOVQ	R14, ·fastStream(SB)
	MOVQ	$stateStream, ·fastState(SB)
	RET
close_pair:
	MOVQ	$SYS_close, AX
	MOVLQSX	·fastPair+4(SB), DI
	SYSCALL
	MOVLQSX	·fastPair(SB), R14
	MOVQ	$SYS_close, AX
	MOVQ	R14, DI
	SYSCALL
fallback:
	RET

// sendAll sends the bytes from R12 up to R8 on the stream R14 with sendmsg
// through fastMsg (whose iov is fastIov), again after EINTR and short
// writes; the control data fastMsg holds, if any, goes with the first
// bytes. sendmsg, never sendto: the sandbox's seccomp filter denies sendto
// when the network is off, and keeps sendmsg for exactly this socket.
// AX = 0 when all is sent, else -errno. Clobbers AX, CX, DX, SI, DI, R11,
// R12.
TEXT sendAll<>(SB),NOSPLIT|NOFRAME,$0-0
sendall_next:
	MOVQ	R8, DX
	SUBQ	R12, DX // bytes left
	JLE	sendall_done
	MOVQ	R12, ·fastIov(SB)
	MOVQ	DX, ·fastIov+8(SB)
	MOVQ	$SYS_sendmsg, AX
	MOVQ	R14, DI
	LEAQ	·fastMsg(SB), SI
	MOVQ	$MSG_NOSIGNAL, DX
	SYSCALL
	CMPQ	AX, $-EINTR
	JEQ	sendall_next
	CMPQ	AX, $0
	JLT	sendall_ret
	ADDQ	AX, R12
	MOVQ	$0, ·fastMsg+32(SB) // msg_control
	MOVQ	$0, ·fastMsg+40(SB) // msg_controllen
	JMP	sendall_next
sendall_done:
	XORL	AX, AX
sendall_ret:
	RET

// recvMsg is recvmsg(R14, &fastMsg, DX), again after EINTR: AX = its
// result. recvmsg, like every socket call here: it is what the sandbox
// allows. Clobbers AX, CX, SI, DI, R11.
TEXT recvMsg<>(SB),NOSPLIT|NOFRAME,$0-0
recvmsg_again:
	MOVQ	$SYS_recvmsg, AX
	MOVQ	R14, DI
	LEAQ	·fastMsg(SB), SI
	SYSCALL
	CMPQ	AX, $-EINTR
	JEQ	recvmsg_again
	RET

// ignoreSet sets SIG_IGN for each signal N whose bit N-1 is set in R8
// (failures, for SIGKILL or SIGSTOP, do not matter here). Clobbers AX, CX,
// DX, SI, DI, R8, R9, R10, R11.
TEXT ignoreSet<>(SB),NOSPLIT|NOFRAME,$0-0
	MOVQ	$1, R9
ign_next:
	TESTQ	R8, R8
	JZ	ign_done
	TESTQ	$1, R8
	JZ	ign_skip
	MOVQ	$SYS_rt_sigaction, AX
	MOVQ	R9, DI
	LEAQ	actIgnore<>(SB), SI
	XORL	DX, DX
	MOVQ	$8, R10
	SYSCALL
ign_skip:
	SHRQ	$1, R8
	INCQ	R9
	JMP	ign_next
ign_done:
	RET

// parseInt reads the integer at SI (the text ends at R10) written as
// strconv.AppendInt writes one: "0", or an optional '-', a digit 1-9 and
// up to 17 more digits. AX = 0 and DX = the value, SI past it, on success;
// AX = 1 otherwise ("-0", a leading zero is left for the caller to see as
// the wrong next byte). Clobbers AX, CX, DX, R11, SI.
TEXT parseInt<>(SB),NOSPLIT|NOFRAME,$0-0
	XORL	DX, DX
	XORL	R11, R11 // 1: negative
	CMPQ	SI, R10
	JAE	int_bad
	CMPB	(SI), $'-'
	JNE	int_first
	MOVL	$1, R11
	INCQ	SI
	CMPQ	SI, R10
	JAE	int_bad
int_first:
	MOVBLZX	(SI), AX
	SUBL	$'0', AX
	CMPL	AX, $9
	JA	int_bad
	INCQ	SI
	TESTL	AX, AX
	JNZ	int_lead
	TESTQ	R11, R11
	JNZ	int_bad // "-0"
	JMP	int_ok
int_lead:
	MOVQ	AX, DX
	MOVL	$1, CX // digits so far
int_more:
	CMPQ	SI, R10
	JAE	int_sign
	MOVBLZX	(SI), AX
	SUBL	$'0', AX
	CMPL	AX, $9
	JA	int_sign
	INCQ	CX
	CMPQ	CX, $18
	JA	int_bad
	IMULQ	$10, DX
	ADDQ	AX, DX
	INCQ	SI
	JMP	int_more
int_sign:
	TESTQ	R11, R11
	JZ	int_ok
	NEGQ	DX
int_ok:
	XORL	AX, AX
	RET
int_bad:
	MOVL	$1, AX
	RET

// quote appends '"', the string at SI up to its NUL or the byte in DL, and
// '"' at DI, where every byte must be copied verbatim to be the JSON that
// escalate.AppendRequest writes: printable ASCII but '"' and '\', or valid
// UTF-8 but U+2028 and U+2029 (which it escapes). AX = 0 on success, SI then
// at the terminating byte; AX = 1 if a byte is not like that or the buffer
// is full (DI reached R9). Clobbers AX, CX, R10, R11.
TEXT quote<>(SB),NOSPLIT|NOFRAME,$0-0
	CMPQ	DI, R9
	JAE	quote_refuse
	MOVB	$0x22, (DI) // '"'
	INCQ	DI
quote_next:
	MOVBLZX	(SI), AX
	CMPB	AL, DL
	JEQ	quote_done
	TESTB	AL, AL
	JZ	quote_done
	CMPB	AL, $0x20
	JB	quote_refuse // control character
	CMPB	AL, $0x80
	JAE	quote_utf8
	CMPB	AL, $0x22
	JEQ	quote_refuse // '"'
	CMPB	AL, $0x5c
	JEQ	quote_refuse // '\'
	CMPQ	DI, R9
	JAE	quote_refuse
	MOVB	AL, (DI)
	INCQ	DI
	INCQ	SI
	JMP	quote_next
quote_done:
	MOVB	$0x22, (DI)
	INCQ	DI
	XORL	AX, AX
	RET
quote_refuse:
	MOVL	$1, AX
	RET

	// A multi-byte UTF-8 sequence, lead byte in AL: CX = the number of
	// continuation bytes, R10..R11 = the range allowed for the first one
	// (which rules out overlong forms, surrogates and values over
	// U+10FFFF, as utf8.DecodeRune does); the others are 0x80..0xBF.
quote_utf8:
	MOVL	$0x80, R10
	MOVL	$0xBF, R11
	CMPB	AL, $0xC2
	JB	quote_refuse // continuation byte, or overlong 2-byte lead
	CMPB	AL, $0xDF
	JBE	utf8_two
	CMPB	AL, $0xEF
	JBE	utf8_three
	CMPB	AL, $0xF4
	JBE	utf8_four
	JMP	quote_refuse
utf8_two:
	MOVL	$1, CX
	JMP	utf8_first
utf8_three:
	MOVL	$2, CX
	CMPB	AL, $0xE0
	JNE	utf8_three_ed
	MOVL	$0xA0, R10 // E0 80..9F would be overlong
	JMP	utf8_first
utf8_three_ed:
	CMPB	AL, $0xED
	JNE	utf8_first
	MOVL	$0x9F, R11 // ED A0..BF would be a surrogate
	JMP	utf8_first
utf8_four:
	MOVL	$3, CX
	CMPB	AL, $0xF0
	JNE	utf8_four_f4
	MOVL	$0x90, R10 // F0 80..8F would be overlong
	JMP	utf8_first
utf8_four_f4:
	CMPB	AL, $0xF4
	JNE	utf8_first
	MOVL	$0x8F, R11 // F4 90..BF would be over U+10FFFF
utf8_first:
	// A NUL (the string's end) fails these checks before anything past it
	// is read.
	MOVBLZX	1(SI), AX
	CMPL	AX, R10
	JB	quote_refuse
	CMPL	AX, R11
	JA	quote_refuse
	CMPL	CX, $1
	JEQ	utf8_valid
	MOVBLZX	2(SI), AX
	ANDL	$0xC0, AX
	CMPL	AX, $0x80
	JNE	quote_refuse
	CMPL	CX, $2
	JEQ	utf8_three_valid
	MOVBLZX	3(SI), AX
	ANDL	$0xC0, AX
	CMPL	AX, $0x80
	JNE	quote_refuse
	JMP	utf8_valid
utf8_three_valid:
	// U+2028 and U+2029 (E2 80 A8, E2 80 A9) are escaped by AppendRequest.
	CMPB	(SI), $0xE2
	JNE	utf8_valid
	CMPB	1(SI), $0x80
	JNE	utf8_valid
	MOVBLZX	2(SI), AX
	ANDL	$0xFE, AX
	CMPL	AX, $0xA8
	JEQ	quote_refuse
utf8_valid:
	// Copy the lead byte and CX continuation bytes. One bound check: the
	// reqSlack bytes past R9 hold the other three.
	CMPQ	DI, R9
	JAE	quote_refuse
	INCQ	CX
utf8_copy:
	MOVB	(SI), AX
	MOVB	AX, (DI)
	INCQ	SI
	INCQ	DI
	DECQ	CX
	JNZ	utf8_copy
	JMP	quote_next

// putLit appends the NUL-terminated literal at SI at DI (no bound check:
// see reqSlack). Clobbers AX, SI.
TEXT putLit<>(SB),NOSPLIT|NOFRAME,$0-0
putlit_next:
	MOVBLZX	(SI), AX
	TESTB	AL, AL
	JZ	putlit_done
	MOVB	AL, (DI)
	INCQ	SI
	INCQ	DI
	JMP	putlit_next
putlit_done:
	RET

// strEq sets AX = 1 if the NUL-terminated strings at SI and DI are equal,
// else 0. Clobbers SI, DI, CX.
TEXT strEq<>(SB),NOSPLIT|NOFRAME,$0-0
streq_next:
	MOVBLZX	(SI), AX
	MOVBLZX	(DI), CX
	CMPL	AX, CX
	JNE	streq_no
	TESTL	AX, AX
	JZ	streq_yes
	INCQ	SI
	INCQ	DI
	JMP	streq_next
streq_yes:
	MOVL	$1, AX
	RET
streq_no:
	XORL	AX, AX
	RET

// hasPrefix sets AX = 1 and advances SI past the prefix if the string at SI
// starts with the NUL-terminated prefix at DI, else AX = 0. Clobbers SI, DI,
// CX.
TEXT hasPrefix<>(SB),NOSPLIT|NOFRAME,$0-0
prefix_next:
	MOVBLZX	(DI), CX
	TESTL	CX, CX
	JZ	prefix_yes
	MOVBLZX	(SI), AX
	CMPL	AX, CX
	JNE	prefix_no
	INCQ	SI
	INCQ	DI
	JMP	prefix_next
prefix_yes:
	MOVL	$1, AX
	RET
prefix_no:
	XORL	AX, AX
	RET

// nameSeen sets AX = 1 if an environment entry before the slot R8 (envp
// starts at R13) has the same name as the entry at SI, which contains '='.
// Quadratic, but on the first differing byte; a shell's environment is a
// few dozen entries. Clobbers AX, CX, R10, R11.
TEXT nameSeen<>(SB),NOSPLIT|NOFRAME,$0-0
	MOVQ	R13, R10
seen_entry:
	CMPQ	R10, R8
	JAE	seen_no
	MOVQ	(R10), R11
	ADDQ	$8, R10
	XORL	CX, CX
seen_byte:
	MOVBLZX	(SI)(CX*1), AX
	CMPB	AL, (R11)(CX*1)
	JNE	seen_entry
	CMPB	AL, $'='
	JEQ	seen_yes
	INCQ	CX
	JMP	seen_byte
seen_yes:
	MOVL	$1, AX
	RET
seen_no:
	XORL	AX, AX
	RET
