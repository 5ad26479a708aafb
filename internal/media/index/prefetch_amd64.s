// SPDX-License-Identifier: Apache-2.0

#include "textflag.h"

// func prefetch(p unsafe.Pointer, n uintptr)
//
// PREFETCHT0 on every 64-byte line of [p, p+n). A prefetch never faults,
// so the range may extend past the end of an allocation.
TEXT ·prefetch(SB), NOSPLIT, $0-16
	MOVQ p+0(FP), AX
	MOVQ n+8(FP), CX
	ADDQ AX, CX

loop:
	CMPQ AX, CX
	JAE  done
	PREFETCHT0 (AX)
	ADDQ $64, AX
	JMP  loop

done:
	RET
