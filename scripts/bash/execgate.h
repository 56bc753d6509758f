/* execgate.h -- the in-shell client of the execgate server (execgate.c). */

#if !defined (_EXECGATE_H_)
#define _EXECGATE_H_

#include "stdc.h"

/* execgate_check's answer when the program may be exec'd as is. */
#define EXECGATE_RUN	(-1)

extern void execgate_capture PARAMS((char **));
extern int execgate_active PARAMS((void));
extern int execgate_check PARAMS((char *, char **, char **));
extern int execgate_reported PARAMS((void));
extern void execgate_fdchk PARAMS((int));

#endif /* _EXECGATE_H_ */
