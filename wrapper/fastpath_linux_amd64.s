#include "textflag.h"

// The Run fast path: the wrapper's common case answered before the Go runtime
// starts.
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
// fastRun's sections: 1 role check, 2 socket variable, 3 getcwd, 4 build
// the request, 5 handshake, 6 send, 7 peek at the answer, 8 execve. Before 5
// any failure returns with nothing changed (Go starts from scratch); from 5
// on, fastState tells Go where to continue (handover.go).
//
// Registers in fastRun (the helpers below say what they use):
//
//	BX   the initial stack pointer, as the kernel left it: 0(BX) argc,
//	     8(BX) argv[0] ... argv[argc-1], NULL, then envp ..., NULL.
//	     Nothing here writes to the stack above it.
//	R12  argc; then sendmsg's result; then the send cursor
//	R13  &envp[0]
//	R14  the CODEX_ESCALATE_SOCKET descriptor, later the stream descriptor
//	R8   slot cursor over argv / envp while building
//	DI   write cursor in fastReq while building
//	R9   write limit (fastReq's end minus reqSlack)
//	AX, CX, DX, SI, R10, R11: scratch (SYSCALL clobbers AX, CX, R11).

// Linux amd64 syscall numbers and constants.
#define SYS_close	3
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

// fastRun tries the Run fast path. It returns (to earlyEntry, which then
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

	// --- 6. Send the frame (header and payload), looping on short writes.
	// sendmsg, never sendto: the sandbox's seccomp filter denies sendto
	// when the network is off, and keeps sendmsg for exactly this socket.
	// fastMsg still points at fastIov (one entry); only the control part
	// of the handshake is cleared.
	MOVQ	$0, ·fastMsg+32(SB) // msg_control
	MOVQ	$0, ·fastMsg+40(SB) // msg_controllen
	LEAQ	·fastReq(SB), R12
send:
	MOVL	·fastReq(SB), DX
	LEAQ	·fastReq+4(SB), AX
	ADDQ	AX, DX
	SUBQ	R12, DX // bytes left
	JLE	answer
	MOVQ	R12, ·fastIov(SB)
	MOVQ	DX, ·fastIov+8(SB)
	MOVQ	$SYS_sendmsg, AX
	MOVQ	R14, DI
	LEAQ	·fastMsg(SB), SI
	MOVQ	$MSG_NOSIGNAL, DX
	SYSCALL
	CMPQ	AX, $-EINTR
	JEQ	send
	CMPQ	AX, $0
	JLT	send_failed
	ADDQ	AX, R12
	JMP	send

	// --- 7. Peek at the answer: the exact Run frame, or hand over.
	// The peek blocks until the first data arrives, as Go's ReadFrame
	// would, but never waits for more once the queue holds some: a frame
	// the server wrote in pieces is left to Go (correct, just not fast;
	// escalate.WriteFrame sends a frame in one piece). recvmsg, not
	// recvfrom, for msg_flags: descriptors sent with the answer (a
	// protocol error Go reports) show as MSG_CTRUNC, as no control buffer
	// is given; none are received.
answer:
	LEAQ	·fastAnswer(SB), AX
	MOVQ	AX, ·fastIov(SB)
	MOVQ	$20, ·fastIov+8(SB)
	MOVQ	$0, ·fastMsg+32(SB) // msg_control
	MOVQ	$0, ·fastMsg+40(SB) // msg_controllen
peek:
	MOVL	$0, ·fastMsg+48(SB) // msg_flags
	MOVQ	$SYS_recvmsg, AX
	MOVQ	R14, DI
	LEAQ	·fastMsg(SB), SI
	MOVQ	$MSG_PEEK, DX
	SYSCALL
	CMPQ	AX, $-EINTR
	JEQ	peek
	CMPQ	AX, $20
	JNE	handover // EOF, error, a short or split answer: Go reads it
	TESTL	$MSG_CTRUNC, ·fastMsg+48(SB)
	JNZ	handover
	MOVQ	·fastAnswer(SB), AX
	CMPQ	AX, runFrame<>(SB)
	JNE	handover
	MOVQ	·fastAnswer+8(SB), AX
	CMPQ	AX, runFrame<>+8(SB)
	JNE	handover
	MOVL	·fastAnswer+16(SB), AX
	CMPL	AX, runFrame<>+16(SB)
	JNE	handover
consume:
	// Read the frame for real: closing a unix socket with unread data
	// makes the server see ECONNRESET instead of a clean EOF.
	// recvmsg, like every socket call here: it is what the sandbox allows.
	// fastMsg's iov still covers fastAnswer's 20 bytes from the peek.
	MOVQ	$SYS_recvmsg, AX
	MOVQ	R14, DI
	LEAQ	·fastMsg(SB), SI
	MOVQ	$MSG_WAITALL, DX
	SYSCALL
	CMPQ	AX, $-EINTR
	JEQ	consume
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
close_stream:
	MOVQ	$SYS_close, AX
	MOVQ	R14, DI
	SYSCALL
fallback:
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
