/* execgate.c -- ask the execgate server before every program this shell starts.

   execgate runs an agent's Bash in a sandbox and decides each program start
   against a policy.  With CODEX_ESCALATE_SOCKET naming an inherited socket
   to the server in the environment Bash starts with, shell_execve() calls
   execgate_check() in the process about to exec (the forked child, or the
   shell itself for `exec'), and this file speaks the server's wire protocol
   (the same one Codex's execve wrapper speaks, so either server works):

     1. handshake: a fresh SOCK_STREAM socketpair; one end goes to the server
        as a one-byte datagram 0x00 carrying it in SCM_RIGHTS over the
        inherited socket (SOCK_SEQPACKET under execgate, SOCK_DGRAM under
        Codex: sendmsg works the same on both).  The rest of the exchange is
        private to this exec, on the other end.
     2. frames: a 4-byte little-endian length, then JSON.
          -> {"file":F,"argv":[...],"workdir":W,"env":{"K":"V",...}}
          <- {"action":"Run"}, optionally with "note", {"action":"Escalate"},
             {"action":{"Deny":{"reason":R-or-null}}}, or {"error":"text"}
     3. Run: return to shell_execve, which execs the file as stock Bash does
        (so a script without #! runs in a copy of this shell and failures
        get Bash's own messages).  Deny: "Execution denied: R", status 1.
        Escalate: send {"fds":[0,1,2]} with fds 0-2 in SCM_RIGHTS, forward
        SIGINT, SIGTERM, SIGHUP, SIGQUIT and SIGWINCH as {"signal":N} frames
        (an extension a Codex server never reads), and end the way the
        server's {"exit_code":N[,"signal":S]} says the command ended.

   Anything unexpected fails closed: a message and status 126, nothing run.

   The socket.  Scripts use low descriptors freely (`exec 3>&2', `cmd 3>&-',
   configure's fd tests), so at startup the socket moves from the number the
   variable names to a high descriptor, as Bash does with a script it reads,
   and the variable is rewritten to match.  Redirections aimed at it move it
   again (execgate_fdchk, from check_bash_input).  Programs inherit it and the
   variable: a nested patched Bash, Codex's patched Bash and the Go wrapper
   (execgate-execve-wrapper) find the server that way, also behind `env',
   `timeout' or make.  Its identity (device and inode) is recorded at startup
   and checked before every use, so a descriptor that was replaced is never
   taken for the server: peer credentials and socket options cannot be read
   inside a sandbox without network (its seccomp filter refuses getsockopt
   and getpeername), the identity can.

   Without the socket variable but with EXEC_WRAPPER (else BASH_EXEC_WRAPPER),
   the shell execs WRAPPER FILE ARGV0 ARGV1... instead, as before this file
   existed.  Both are read once, from the environment the shell started
   with, so a script cannot switch interception off by unsetting them. */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdint.h>

#if defined (HAVE_UNISTD_H)
#  include <unistd.h>
#endif

#include "bashansi.h"
#include "bashintl.h"
#include "filecntl.h"
#include <errno.h>

#include "shell.h"
#include "execute_cmd.h"
#include "builtins/common.h"
#include "execgate.h"

#define SOCKET_VAR	"CODEX_ESCALATE_SOCKET"

/* Largest frame either way (the server's limit: a request holds argv and
   environment, up to ARG_MAX and its JSON escapes). */
#define MAX_PAYLOAD	(4 << 20)

/* Statuses, as Bash uses them for commands it could not run. */
#define EX_DENIED	1

static int gate_fd = -1;		/* the server's socket, or -1 */
static int gate_broken;			/* the variable was set, the socket unusable */
static char gate_broken_why[128];
static dev_t gate_dev;
static ino_t gate_ino;
static char *exec_wrapper;		/* legacy: the wrapper path, or NULL */
static int reported;			/* the last check said why it failed */

/* The working directory's name and then the request, answer in turn, are
   put together in the forked child, where every page written costs a
   copy-on-write or zero-fill fault on the way to each exec.  So they share
   one area allocated at startup (and never freed): a typical exec writes
   one or two of its pages, where fresh buffers from malloc would write
   several, the allocator's own bookkeeping among them. */
#define SCRATCH_SIZE	(PATH_MAX + 60 * 1024)
static char *scratch;

/* ------------------------------------------------------------ setup */

static char *
env_lookup (env, name, indexp)
     char **env;
     const char *name;
     int *indexp;
{
  size_t len;
  int i;

  len = strlen (name);
  for (i = 0; env && env[i]; i++)
    if (strncmp (env[i], name, len) == 0 && env[i][len] == '=')
      {
	if (indexp)
	  *indexp = i;
	return (env[i] + len + 1);
      }
  return ((char *)NULL);
}

/* Called from main() with the environment the shell was started with,
   before it becomes shell variables. */
void
execgate_capture (env)
     char **env;
{
  static int captured = 0;
  char *value, *end, cwd[PATH_MAX], *entry;
  long n;
  int i, fd;
  struct stat st;

  if (captured)
    return;
  captured = 1;

  value = env_lookup (env, "EXEC_WRAPPER", (int *)NULL);
  if (value == 0 || *value == '\0')
    value = env_lookup (env, "BASH_EXEC_WRAPPER", (int *)NULL);
  if (value && *value)
    {
      /* A relative path is anchored now, so a later `cd' cannot make the
	 shell pick up another program as its wrapper. */
      if (*value != '/' && getcwd (cwd, sizeof (cwd)))
	exec_wrapper = sh_makepath (cwd, value, MP_RMDOT);
      else
	exec_wrapper = savestring (value);
    }

  value = env_lookup (env, SOCKET_VAR, &i);
  if (value == 0)
    return;
  errno = 0;
  n = strtol (value, &end, 10);
  if (*value == '\0' || *end != '\0' || errno || n < 0 || n > INT_MAX)
    {
      gate_broken = 1;
      snprintf (gate_broken_why, sizeof (gate_broken_why), "%s=%.40s is not a file descriptor number", SOCKET_VAR, value);
      return;
    }
  fd = (int)n;
  if (fstat (fd, &st) < 0 || S_ISSOCK (st.st_mode) == 0)
    {
      gate_broken = 1;
      snprintf (gate_broken_why, sizeof (gate_broken_why), "%s=%d is not a socket", SOCKET_VAR, fd);
      return;
    }
  /* Below 10 is the scripts' range; Bash keeps its own descriptors above. */
  if (fd < 10)
    fd = move_to_high_fd (fd, 1, -1);
  gate_fd = fd;
  scratch = xmalloc (SCRATCH_SIZE);
  gate_dev = st.st_dev;
  gate_ino = st.st_ino;
  if (fd != (int)n)
    {
      entry = xmalloc (sizeof (SOCKET_VAR) + INT_STRLEN_BOUND (int) + 1);
      sprintf (entry, "%s=%d", SOCKET_VAR, fd);
      env[i] = entry;
    }
}

/* Non-zero when shell_execve must call execgate_check. */
int
execgate_active ()
{
  return (gate_fd >= 0 || gate_broken || exec_wrapper);
}

/* Non-zero when the last failed execgate_check already reported why, so
   the `exec' builtin does not add a message of its own. */
int
execgate_reported ()
{
  return (reported);
}

/* FD is about to be replaced or closed by a redirection: if it is the
   server's socket, move the socket out of the way first. */
void
execgate_fdchk (fd)
     int fd;
{
  int nfd;
  char buf[INT_STRLEN_BOUND (int) + 1];
  SHELL_VAR *v;

  if (fd != gate_fd || fd < 0)
    return;
  nfd = fcntl (fd, F_DUPFD, 10);
  if (nfd < 0)
    {
      gate_fd = -1;	/* later execs fail closed */
      gate_broken = 1;
      snprintf (gate_broken_why, sizeof (gate_broken_why), "cannot move the server's socket off fd %d: %s", fd, strerror (errno));
      return;
    }
  nfd = move_to_high_fd (nfd, 1, -1);
  close (fd);
  gate_fd = nfd;
  v = find_variable (SOCKET_VAR);
  if (v && value_cell (v) && atoi (value_cell (v)) == fd)
    {
      sprintf (buf, "%d", nfd);
      bind_variable (SOCKET_VAR, buf, 0);
    }
}

/* -------------------------------------------------------- the wrapper */

/* Exec COMMAND through the wrapper in a new argv (ARGS has no spare slots).
   Returns only if the wrapper could not be executed. */
static int
exec_through_wrapper (command, args, env)
     char *command;
     char **args, **env;
{
  char **wargs;
  int nargs, i, e;

  nargs = strvec_len (args);
  wargs = strvec_create (nargs + 3);
  wargs[0] = exec_wrapper;
  wargs[1] = command;
  for (i = 0; i < nargs; i++)
    wargs[i + 2] = args[i];
  wargs[nargs + 2] = (char *)NULL;

  execve (exec_wrapper, wargs, env);
  e = errno;
  free (wargs);		/* the strings still belong to ARGS */
  errno = e;
  sys_error (_("%s: cannot execute exec wrapper %s"), command, exec_wrapper);
  return (EX_NOEXEC);
}

/* ------------------------------------------------------- JSON encoding */

struct buf
{
  char *s;
  size_t len, cap;
  int lossy;		/* a string was not valid UTF-8 */
  int borrowed;		/* s is not from malloc: never realloc or free it */
};

static void
buf_grow (b, n)
     struct buf *b;
     size_t n;
{
  if (b->len + n <= b->cap)
    return;
  while (b->len + n > b->cap)
    b->cap = b->cap ? b->cap * 2 : 64;
  if (b->borrowed)
    {
      char *s = xmalloc (b->cap);
      memcpy (s, b->s, b->len);
      b->s = s;
      b->borrowed = 0;
    }
  else
    b->s = xrealloc (b->s, b->cap);
}

static void
buf_free (b)
     struct buf *b;
{
  if (b->borrowed == 0)
    free (b->s);
  b->s = NULL;
  b->len = b->cap = 0;
  b->borrowed = 0;
}

static void
buf_put (b, s, n)
     struct buf *b;
     const char *s;
     size_t n;
{
  buf_grow (b, n);
  memcpy (b->s + b->len, s, n);
  b->len += n;
}

#define buf_puts(b, s)	buf_put ((b), (s), strlen (s))

/* Length of the well-formed UTF-8 sequence at S (N bytes left), or 0. */
static int
utf8_len (s, n)
     const unsigned char *s;
     size_t n;
{
  int len, i;
  unsigned char lo, hi;

  lo = 0x80; hi = 0xbf;
  if (s[0] < 0x80)
    return 1;
  else if (s[0] >= 0xc2 && s[0] <= 0xdf)
    len = 2;
  else if (s[0] >= 0xe0 && s[0] <= 0xef)
    {
      len = 3;
      if (s[0] == 0xe0) lo = 0xa0;	/* no overlong forms */
      if (s[0] == 0xed) hi = 0x9f;	/* no surrogates */
    }
  else if (s[0] >= 0xf0 && s[0] <= 0xf4)
    {
      len = 4;
      if (s[0] == 0xf0) lo = 0x90;
      if (s[0] == 0xf4) hi = 0x8f;	/* nothing above U+10FFFF */
    }
  else
    return 0;
  if (n < (size_t)len || s[1] < lo || s[1] > hi)
    return 0;
  for (i = 2; i < len; i++)
    if (s[i] < 0x80 || s[i] > 0xbf)
      return 0;
  return len;
}

/* Append S as a JSON string.  Bytes that are not UTF-8 become U+FFFD, as
   Go's encoder does (the server sees what the Go wrapper would send);
   LOSSY then records that the string did not survive. */
static void
put_bytes (b, str, n, lossy)
     struct buf *b;
     const char *str;
     size_t n;
     int *lossy;
{
  const unsigned char *s;
  int k;
  char esc[8];

  s = (const unsigned char *)str;
  buf_put (b, "\"", 1);
  while (n > 0)
    {
      /* The longest run that needs no escape goes in at once. */
      for (k = 0; (size_t)k < n && s[k] >= 0x20 && s[k] < 0x80 && s[k] != '"' && s[k] != '\\'; k++)
	;
      if (k > 0)
	{
	  buf_put (b, (const char *)s, k);
	  s += k; n -= k;
	  continue;
	}
      switch (*s)
	{
	case '"': buf_put (b, "\\\"", 2); break;
	case '\\': buf_put (b, "\\\\", 2); break;
	case '\n': buf_put (b, "\\n", 2); break;
	case '\r': buf_put (b, "\\r", 2); break;
	case '\t': buf_put (b, "\\t", 2); break;
	default:
	  if (*s < 0x20)
	    {
	      sprintf (esc, "\\u%04x", *s);
	      buf_put (b, esc, 6);
	      break;
	    }
	  k = utf8_len (s, n);
	  if (k == 0)
	    {
	      buf_put (b, "\\ufffd", 6);
	      if (lossy)
		*lossy = 1;
	      k = 1;
	    }
	  else
	    buf_put (b, (const char *)s, k);
	  s += k; n -= k;
	  continue;
	}
      s++; n--;
    }
  buf_put (b, "\"", 1);
}

#define put_string(b, str, lossy)	put_bytes ((b), (str), strlen (str), (lossy))

/* The request for COMMAND: file and argv must survive for an escalation
   (LOSSY says they did not); the environment is the one the program gets. */
static void
encode_request (b, command, args, env, workdir)
     struct buf *b;
     char *command, **args, **env, *workdir;
{
  int i;
  char *eq;

  buf_grow (b, 4 + 64);
  b->len = 4;		/* the frame header, filled in by seal_frame */
  buf_puts (b, "{\"file\":");
  put_string (b, command, &b->lossy);
  buf_puts (b, ",\"argv\":[");
  for (i = 0; args[i]; i++)
    {
      if (i)
	buf_put (b, ",", 1);
      put_string (b, args[i], &b->lossy);
    }
  buf_puts (b, "],\"workdir\":");
  put_string (b, workdir, (int *)NULL);
  buf_puts (b, ",\"env\":{");
  for (i = 0; env && env[i]; i++)
    {
      eq = strchr (env[i], '=');
      if (eq == 0 || eq == env[i])
	continue;
      if (b->s[b->len - 1] != '{')
	buf_put (b, ",", 1);
      /* Not split in place: the strings are the parent shell's, and a
	 write would copy their pages into this child. */
      put_bytes (b, env[i], eq - env[i], (int *)NULL);
      buf_put (b, ":", 1);
      put_string (b, eq + 1, (int *)NULL);
    }
  buf_puts (b, "}}");
}

/* ------------------------------------------------------- JSON decoding */

/* Just enough JSON for the server's answers: objects, strings, integers,
   null, true and false.  Unknown fields are skipped, as Codex's decoder
   skips them. */
struct json
{
  const char *p, *end;
};

static void
json_ws (j)
     struct json *j;
{
  while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
    j->p++;
}

static int
json_lit (j, c)
     struct json *j;
     int c;
{
  json_ws (j);
  if (j->p < j->end && *j->p == c)
    {
      j->p++;
      return 1;
    }
  return 0;
}

static int
hex4 (p)
     const char *p;
{
  int i, v, c;

  for (v = i = 0; i < 4; i++)
    {
      c = p[i];
      v <<= 4;
      if (c >= '0' && c <= '9') v |= c - '0';
      else if (c >= 'a' && c <= 'f') v |= c - 'a' + 10;
      else if (c >= 'A' && c <= 'F') v |= c - 'A' + 10;
      else return -1;
    }
  return v;
}

/* A string, decoded into a new buffer at *OUT (if OUT is set).  Returns 0
   if malformed. */
static int
json_string (j, out)
     struct json *j;
     char **out;
{
  struct buf b = { 0 };
  int u, lo;
  char c;

  if (json_lit (j, '"') == 0)
    return 0;
  buf_grow (&b, 1);
  while (j->p < j->end && *j->p != '"')
    {
      c = *j->p++;
      if ((unsigned char)c < 0x20)
	goto bad;
      if (c != '\\')
	{
	  buf_put (&b, &c, 1);
	  continue;
	}
      if (j->p >= j->end)
	goto bad;
      c = *j->p++;
      switch (c)
	{
	case '"': case '\\': case '/': buf_put (&b, &c, 1); break;
	case 'b': buf_put (&b, "\b", 1); break;
	case 'f': buf_put (&b, "\f", 1); break;
	case 'n': buf_put (&b, "\n", 1); break;
	case 'r': buf_put (&b, "\r", 1); break;
	case 't': buf_put (&b, "\t", 1); break;
	case 'u':
	  if (j->end - j->p < 4 || (u = hex4 (j->p)) < 0)
	    goto bad;
	  j->p += 4;
	  if (u == 0)
	    goto bad;	/* no C string holds it: "Run\u0000x" must not read as "Run" */
	  if (u >= 0xd800 && u <= 0xdbff && j->end - j->p >= 6 && j->p[0] == '\\' && j->p[1] == 'u'
	      && (lo = hex4 (j->p + 2)) >= 0xdc00 && lo <= 0xdfff)
	    {
	      u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
	      j->p += 6;
	    }
	  else if (u >= 0xd800 && u <= 0xdfff)
	    u = 0xfffd;
	  {
	    char enc[4];
	    int n;
	    if (u < 0x80) { enc[0] = u; n = 1; }
	    else if (u < 0x800) { enc[0] = 0xc0 | (u >> 6); enc[1] = 0x80 | (u & 0x3f); n = 2; }
	    else if (u < 0x10000) { enc[0] = 0xe0 | (u >> 12); enc[1] = 0x80 | ((u >> 6) & 0x3f); enc[2] = 0x80 | (u & 0x3f); n = 3; }
	    else { enc[0] = 0xf0 | (u >> 18); enc[1] = 0x80 | ((u >> 12) & 0x3f); enc[2] = 0x80 | ((u >> 6) & 0x3f); enc[3] = 0x80 | (u & 0x3f); n = 4; }
	    buf_put (&b, enc, n);
	  }
	  break;
	default:
	  goto bad;
	}
    }
  if (j->p >= j->end)
    goto bad;
  j->p++;
  buf_put (&b, "", 1);
  if (out)
    *out = b.s;
  else
    free (b.s);
  return 1;
bad:
  free (b.s);
  return 0;
}

static int
json_int (j, out)
     struct json *j;
     long *out;
{
  long v;
  int neg, digits;

  json_ws (j);
  neg = (j->p < j->end && *j->p == '-');
  if (neg)
    j->p++;
  for (v = digits = 0; j->p < j->end && *j->p >= '0' && *j->p <= '9'; j->p++, digits++)
    {
      if (v > 100000000L)
	return 0;
      v = v * 10 + (*j->p - '0');
    }
  if (digits == 0)
    return 0;
  *out = neg ? -v : v;
  return 1;
}

static int json_skip PARAMS((struct json *, int));

/* Skip any one value (nested no deeper than DEPTH). */
static int
json_skip (j, depth)
     struct json *j;
     int depth;
{
  long n;
  static const char *words[] = { "null", "true", "false", 0 };
  int i;

  json_ws (j);
  if (j->p >= j->end || depth > 16)
    return 0;
  if (*j->p == '"')
    return json_string (j, (char **)NULL);
  if (*j->p == '{' || *j->p == '[')
    {
      int close = (*j->p == '{') ? '}' : ']';
      j->p++;
      if (json_lit (j, close))
	return 1;
      do
	{
	  if (close == '}' && (json_string (j, (char **)NULL) == 0 || json_lit (j, ':') == 0))
	    return 0;
	  if (json_skip (j, depth + 1) == 0)
	    return 0;
	}
      while (json_lit (j, ','));
      return json_lit (j, close);
    }
  for (i = 0; words[i]; i++)
    if (j->end - j->p >= (long)strlen (words[i]) && strncmp (j->p, words[i], strlen (words[i])) == 0)
      {
	j->p += strlen (words[i]);
	return 1;
      }
  if (json_int (j, &n) == 0)
    return 0;
  /* fractions and exponents are not expected anywhere */
  return 1;
}

/* Iterate over the fields of an object: call with *FIRST set, get each key
   in *KEY (freed by the caller).  Returns 1 with a key, 0 at the end, -1 if
   malformed. */
static int
json_field (j, first, key)
     struct json *j;
     int *first;
     char **key;
{
  if (*first)
    {
      *first = 0;
      if (json_lit (j, '{') == 0)
	return -1;
      if (json_lit (j, '}'))
	return 0;
    }
  else if (json_lit (j, '}'))
    return 0;
  else if (json_lit (j, ',') == 0)
    return -1;
  if (json_string (j, key) == 0)
    return -1;
  if (json_lit (j, ':') == 0)
    {
      free (*key);
      return -1;
    }
  return 1;
}

static int
json_null (j)
     struct json *j;
{
  json_ws (j);
  if (j->end - j->p >= 4 && strncmp (j->p, "null", 4) == 0)
    {
      j->p += 4;
      return 1;
    }
  return 0;
}

/* The answer to a request. */
enum action { A_NONE, A_RUN, A_ESCALATE, A_DENY };
struct answer
{
  enum action action;
  char *reason;		/* Deny's reason, or NULL */
  char *note;		/* Run's note, or NULL */
  char *error;		/* the server's error answer, or NULL */
};

/* {"Deny":{"reason":...}} */
static int
parse_deny (j, a)
     struct json *j;
     struct answer *a;
{
  int first, first2, r, r2;
  char *key, *key2;

  first = 1;
  while ((r = json_field (j, &first, &key)) == 1)
    {
      if (strcmp (key, "Deny") != 0 || a->action != A_NONE)
	{
	  free (key);
	  return 0;
	}
      free (key);
      a->action = A_DENY;
      first2 = 1;
      while ((r2 = json_field (j, &first2, &key2)) == 1)
	{
	  r = strcmp (key2, "reason") == 0
		? (json_null (j) || json_string (j, &a->reason))
		: json_skip (j, 0);
	  free (key2);
	  if (r == 0)
	    return 0;
	}
      if (r2 < 0)
	return 0;
    }
  return r == 0 && a->action == A_DENY;
}

static int
parse_answer (p, n, a)
     const char *p;
     size_t n;
     struct answer *a;
{
  struct json j;
  int first, r, ok;
  char *key, *name;

  j.p = p; j.end = p + n;
  first = 1;
  while ((r = json_field (&j, &first, &key)) == 1)
    {
      if (strcmp (key, "action") == 0 && a->action != A_NONE)
	ok = 0;		/* a second action: which one would be meant? */
      else if (strcmp (key, "action") == 0)
	{
	  json_ws (&j);
	  if (j.p < j.end && *j.p == '"')
	    {
	      name = NULL;
	      ok = json_string (&j, &name);
	      if (ok && strcmp (name, "Run") == 0)
		a->action = A_RUN;
	      else if (ok && strcmp (name, "Escalate") == 0)
		a->action = A_ESCALATE;
	      else
		ok = 0;
	      free (name);
	    }
	  else
	    ok = parse_deny (&j, a);
	}
      else if (strcmp (key, "note") == 0)
	ok = json_string (&j, &a->note);
      else if (strcmp (key, "error") == 0)
	ok = json_string (&j, &a->error);
      else
	ok = json_skip (&j, 0);
      free (key);
      if (ok == 0)
	return 0;
    }
  json_ws (&j);
  return r == 0 && j.p == j.end && (a->action != A_NONE || a->error);
}

/* {"exit_code":N[,"signal":S]} */
static int
parse_result (p, n, code, sig)
     const char *p;
     size_t n;
     long *code, *sig;
{
  struct json j;
  int first, r, ok, have;
  char *key;

  j.p = p; j.end = p + n;
  first = 1;
  have = 0;
  *sig = 0;
  while ((r = json_field (&j, &first, &key)) == 1)
    {
      if (strcmp (key, "exit_code") == 0)
	ok = have = json_int (&j, code);
      else if (strcmp (key, "signal") == 0)
	ok = json_int (&j, sig);
      else
	ok = json_skip (&j, 0);
      free (key);
      if (ok == 0)
	return 0;
    }
  json_ws (&j);
  return r == 0 && j.p == j.end && have;
}

/* ---------------------------------------------------------- transport */

/* Set by fail(): what went wrong, for the one-line report. */
static char why[256];

static int
fail (fmt, arg)
     const char *fmt, *arg;
{
  snprintf (why, sizeof (why), fmt, arg ? arg : strerror (errno));
  return -1;
}

/* Put the length header in front of the payload in B (room for it is kept
   at the front).  Returns 0, or -1 if the payload is over the limit. */
static int
seal_frame (b)
     struct buf *b;
{
  size_t len;

  len = b->len - 4;
  if (len > MAX_PAYLOAD)
    return fail ("the request exceeds the server's limit of %s bytes", "4194304");
  b->s[0] = len & 0xff; b->s[1] = (len >> 8) & 0xff;
  b->s[2] = (len >> 16) & 0xff; b->s[3] = (len >> 24) & 0xff;
  return 0;
}

/* Send the sealed frame in B from offset OFF on, with FDS on its first
   byte (OFF 0 only).  FLAGS adds MSG_DONTWAIT for a send that must not
   block: it then stops at a full buffer.  Returns the offset reached, or
   -1. */
static ssize_t
send_frame (conn, b, off, fds, nfds, flags)
     int conn;
     struct buf *b;
     size_t off;
     int *fds, nfds, flags;
{
  struct msghdr m;
  struct iovec iov;
  union { struct cmsghdr h; char space[CMSG_SPACE (3 * sizeof (int))]; } ctl;
  struct cmsghdr *c;
  ssize_t n;

  for (; off < b->len; off += n)
    {
      memset (&m, 0, sizeof (m));
      iov.iov_base = b->s + off;
      iov.iov_len = b->len - off;
      m.msg_iov = &iov;
      m.msg_iovlen = 1;
      if (off == 0 && nfds > 0)
	{
	  memset (&ctl, 0, sizeof (ctl));
	  m.msg_control = ctl.space;
	  m.msg_controllen = CMSG_SPACE (nfds * sizeof (int));
	  c = CMSG_FIRSTHDR (&m);
	  c->cmsg_level = SOL_SOCKET;
	  c->cmsg_type = SCM_RIGHTS;
	  c->cmsg_len = CMSG_LEN (nfds * sizeof (int));
	  memcpy (CMSG_DATA (c), fds, nfds * sizeof (int));
	}
      n = sendmsg (conn, &m, MSG_NOSIGNAL | flags);
      if (n < 0 && errno == EINTR)
	n = 0;
      else if (n < 0 && errno == EAGAIN && (flags & MSG_DONTWAIT))
	break;
      else if (n < 0)
	return fail ("cannot send to the execgate server: %s", (char *)NULL);
    }
  return off;
}

/* Read exactly N bytes; descriptors are refused.  Returns 0 on success. */
static int
read_full (conn, p, n)
     int conn;
     char *p;
     size_t n;
{
  struct msghdr m;
  struct iovec iov;
  union { struct cmsghdr h; char space[CMSG_SPACE (16 * sizeof (int))]; } ctl;
  struct cmsghdr *c;
  ssize_t r;
  size_t got;
  int k, *fds, bad;

  for (got = 0; got < n; got += r)
    {
      memset (&m, 0, sizeof (m));
      iov.iov_base = p + got;
      iov.iov_len = n - got;
      m.msg_iov = &iov;
      m.msg_iovlen = 1;
      m.msg_control = ctl.space;
      m.msg_controllen = sizeof (ctl.space);
      r = recvmsg (conn, &m, MSG_CMSG_CLOEXEC);
      if (r < 0 && errno == EINTR)
	{
	  r = 0;
	  continue;
	}
      if (r < 0)
	return fail ("no answer from the execgate server: %s", (char *)NULL);
      bad = (m.msg_flags & MSG_CTRUNC) != 0;
      for (c = CMSG_FIRSTHDR (&m); c; c = CMSG_NXTHDR (&m, c))
	{
	  bad = 1;
	  if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
	    for (fds = (int *)CMSG_DATA (c), k = 0; k < (int)((c->cmsg_len - CMSG_LEN (0)) / sizeof (int)); k++)
	      close (fds[k]);
	}
      if (bad)
	return fail ("the execgate server sent %s with its answer; expected none", "file descriptors");
      if (r == 0)
	return fail ("the execgate server closed the connection %s", got ? "inside a frame" : "without an answer");
    }
  return 0;
}

/* Read one frame into B, replacing what it held (NUL-terminated); returns
   its text, its length in *LEN. */
static char *
read_frame (conn, b, len)
     int conn;
     struct buf *b;
     size_t *len;
{
  unsigned char h[4];
  size_t n;

  if (read_full (conn, (char *)h, 4) < 0)
    return NULL;
  n = h[0] | (h[1] << 8) | (h[2] << 16) | ((size_t)h[3] << 24);
  if (n > MAX_PAYLOAD)
    {
      fail ("the execgate server announced a frame over the limit%s", "");
      return NULL;
    }
  b->len = 0;
  buf_grow (b, n + 1);
  if (read_full (conn, b->s, n) < 0)
    return NULL;
  b->s[n] = '\0';
  *len = n;
  return b->s;
}

/* The handshake: a private stream for this exec, carrying the request in
   the sealed frame B.  As much of the request as the stream's buffer holds
   is written before the handshake, so the server usually finds it whole the
   moment it takes the stream and can answer without waiting for more; the
   rest follows the handshake (the protocol only orders the stream's own
   bytes, so any server reads the same).  Returns the stream or -1. */
static int
dial (b)
     struct buf *b;
{
  int sv[2], r;
  ssize_t sent;
  struct stat st;
  struct msghdr m;
  struct iovec iov;
  char byte;
  union { struct cmsghdr h; char space[CMSG_SPACE (sizeof (int))]; } ctl;
  struct cmsghdr *c;

  /* The descriptor may have been closed or replaced since startup. */
  if (fstat (gate_fd, &st) < 0 || S_ISSOCK (st.st_mode) == 0 || st.st_dev != gate_dev || st.st_ino != gate_ino)
    {
      snprintf (why, sizeof (why), "fd %d is no longer the execgate server's socket", gate_fd);
      return -1;
    }
  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
    return fail ("socketpair: %s", (char *)NULL);
  sent = send_frame (sv[0], b, 0, (int *)NULL, 0, MSG_DONTWAIT);
  if (sent < 0)
    {
      close (sv[0]);
      close (sv[1]);
      return -1;
    }
  byte = 0;
  memset (&m, 0, sizeof (m));
  memset (&ctl, 0, sizeof (ctl));
  iov.iov_base = &byte;
  iov.iov_len = 1;
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  m.msg_control = ctl.space;
  m.msg_controllen = sizeof (ctl.space);
  c = CMSG_FIRSTHDR (&m);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN (sizeof (int));
  memcpy (CMSG_DATA (c), &sv[1], sizeof (int));
  do
    r = sendmsg (gate_fd, &m, MSG_NOSIGNAL);
  while (r < 0 && errno == EINTR);
  close (sv[1]);
  if (r < 0)
    {
      close (sv[0]);
      return fail ("cannot reach the execgate server: %s", (char *)NULL);
    }
  if (send_frame (sv[0], b, sent, (int *)NULL, 0, 0) < 0)
    {
      close (sv[0]);
      return -1;
    }
  return sv[0];
}

/* ------------------------------------------------------------ escalate */

static const int forwarded[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGWINCH };
#define NFORWARDED (sizeof (forwarded) / sizeof (forwarded[0]))
static volatile sig_atomic_t caught[NFORWARDED];

static void
catch_signal (sig)
     int sig;
{
  unsigned int i;

  for (i = 0; i < NFORWARDED; i++)
    if (forwarded[i] == sig)
      caught[i] = 1;
}

/* End this process the way the escalated command ended. */
static void
end_like (code, sig)
     long code, sig;
{
  sigset_t set;

  if (sig > 0 && sig < NSIG && sig != SIGCHLD && sig != SIGCONT && sig != SIGSTOP && sig != SIGTSTP
      && sig != SIGTTIN && sig != SIGTTOU && sig != SIGURG && sig != SIGWINCH)
    {
      signal (sig, SIG_DFL);
      sigemptyset (&set);
      sigaddset (&set, sig);
      sigprocmask (SIG_UNBLOCK, &set, (sigset_t *)NULL);
      raise (sig);
      _exit (128 + sig);
    }
  if (sig > 0)
    _exit (128 + sig);
  _exit (code & 0xff);
}

/* Hand fds 0-2 to the server, which runs the command outside the sandbox;
   relay the forwarded signals until it ends.  Returns only on failure. */
static void
escalate (conn)
     int conn;
{
  struct buf b = { 0 }, r = { 0 };
  struct sigaction sa, old[NFORWARDED];
  sigset_t block, saved;
  struct pollfd pfd;
  int fds[3], i, dn;
  unsigned int k;
  char *res, frame[64];
  size_t len;
  long code, sig;

  /* A closed descriptor cannot travel: the command gets /dev/null there. */
  dn = -1;
  for (i = 0; i < 3; i++)
    {
      fds[i] = i;
      if (fcntl (i, F_GETFD) < 0)
	{
	  if (dn < 0 && (dn = open ("/dev/null", O_RDWR | O_CLOEXEC)) < 0)
	    {
	      fail ("cannot open /dev/null for a closed standard descriptor: %s", (char *)NULL);
	      return;
	    }
	  fds[i] = dn;
	}
    }

  /* From here a Ctrl-C must reach the command, not end this process; a
     signal this process ignores would not have reached it either. */
  sigemptyset (&block);
  memset (&sa, 0, sizeof (sa));
  sa.sa_handler = catch_signal;
  sigemptyset (&sa.sa_mask);
  for (k = 0; k < NFORWARDED; k++)
    {
      sigaction (forwarded[k], (struct sigaction *)NULL, &old[k]);
      if (old[k].sa_handler != SIG_IGN)
	{
	  sigaddset (&block, forwarded[k]);
	  sigaction (forwarded[k], &sa, (struct sigaction *)NULL);
	}
    }
  sigprocmask (SIG_BLOCK, &block, &saved);

  buf_grow (&b, 64);
  b.len = 4;
  buf_puts (&b, "{\"fds\":[0,1,2]}");
  i = seal_frame (&b) < 0 ? -1 : (int) send_frame (conn, &b, 0, fds, 3, 0);
  free (b.s);
  if (dn >= 0)
    close (dn);
  if (i < 0)
    goto restore;

  pfd.fd = conn;
  pfd.events = POLLIN;
  for (;;)
    {
      /* Forwarded signals arrive only while ppoll waits. */
      if (ppoll (&pfd, 1, (struct timespec *)NULL, &saved) < 0 && errno != EINTR)
	{
	  fail ("waiting for the escalated command: %s", (char *)NULL);
	  goto restore;
	}
      for (k = 0; k < NFORWARDED; k++)
	if (caught[k])
	  {
	    caught[k] = 0;
	    len = sprintf (frame + 4, "{\"signal\":%d}", forwarded[k]);
	    b.s = frame; b.cap = sizeof (frame); b.len = 4 + len; b.borrowed = 1;
	    seal_frame (&b);
	    send_frame (conn, &b, 0, (int *)NULL, 0, 0);	/* a failure shows in the read */
	  }
      if (pfd.revents)
	break;
    }
  res = read_frame (conn, &r, &len);
  if (res == 0)
    {
      char cause[sizeof (why)];

      memcpy (cause, why, sizeof (why));
      snprintf (why, sizeof (why), "no exit status from the server for the escalated command: %s", cause);
      goto restore;
    }
  if (parse_result (res, len, &code, &sig) == 0)
    {
      snprintf (why, sizeof (why), "malformed exit status from the server: %.120s", res);
      goto restore;
    }
  end_like (code, sig);

restore:
  /* Failed: the shell (for `exec' with execfail) goes on as before. */
  buf_free (&r);
  for (k = 0; k < NFORWARDED; k++)
    if (sigismember (&block, forwarded[k]))
      sigaction (forwarded[k], &old[k], (struct sigaction *)NULL);
  sigprocmask (SIG_SETMASK, &saved, (sigset_t *)NULL);
}

/* -------------------------------------------------------------- check */

/* Print MSG on stderr on one line, \r and \n shown escaped. */
static void
put_line (prefix, msg)
     const char *prefix, *msg;
{
  struct buf b = { 0 };

  buf_puts (&b, prefix);
  for (; msg && *msg; msg++)
    if (*msg == '\n')
      buf_put (&b, "\\n", 2);
    else if (*msg == '\r')
      buf_put (&b, "\\r", 2);
    else
      buf_put (&b, msg, 1);
  buf_put (&b, "\n", 1);
  write (2, b.s, b.len);
  free (b.s);
}

/* Fail closed: report WHY for COMMAND and return the "cannot execute" status. */
static int
refuse (command)
     char *command;
{
  internal_error ("%s: execgate: %s", command, why);
  reported = 1;
  return (EX_NOEXEC);
}

/* Decide COMMAND ARGS ENV (what shell_execve is about to exec).  Returns
   EXECGATE_RUN to let shell_execve exec it, or the status to return
   instead (after saying why).  An escalated command's end ends this
   process. */
int
execgate_check (command, args, env)
     char *command;
     char **args, **env;
{
  struct buf b = { 0 };
  struct answer a = { A_NONE };
  char *workdir, *reply;
  size_t len, used;
  int conn;

  reported = 0;
  if (gate_broken)
    {
      snprintf (why, sizeof (why), "%s; refusing to run it undecided", gate_broken_why);
      return refuse (command);
    }
  if (gate_fd < 0)
    {
      reported = 1;
      return exec_through_wrapper (command, args, env);
    }

  /* The server resolves a relative file against the working directory.  A
     directory deleted under the shell has no path any more: its logical
     one ($PWD) is sent, for a Run, and an escalation there fails on the
     server's side, which says so. */
  workdir = getcwd (scratch, PATH_MAX);
  used = workdir ? strlen (workdir) + 1 : 0;
  if (workdir == 0)
    workdir = get_string_value ("PWD");
  if (workdir == 0 || *workdir != '/')
    {
      fail ("cannot determine the working directory: %s", (char *)NULL);
      return refuse (command);
    }

  b.s = scratch + used;
  b.cap = SCRATCH_SIZE - used;
  b.borrowed = 1;
  encode_request (&b, command, args, env, workdir);
  if (seal_frame (&b) < 0 || (conn = dial (&b)) < 0)
    {
      buf_free (&b);
      return refuse (command);
    }
  reply = read_frame (conn, &b, &len);
  if (reply == 0)
    goto failed;
  if (parse_answer (reply, len, &a) == 0)
    {
      snprintf (why, sizeof (why), "malformed answer from the execgate server: %.120s", reply);
      goto failed;
    }
  if (a.error)
    {
      snprintf (why, sizeof (why), "execgate server: %.200s", a.error);
      goto failed;
    }
  switch (a.action)
    {
    case A_RUN:
      /* Nothing more to say: a script without #! that shell_execve then
	 runs in this process must not keep the stream open. */
      close (conn);
      if (a.note)
	put_line ("", a.note);
      buf_free (&b);
      return (EXECGATE_RUN);
    case A_DENY:
      close (conn);
      buf_free (&b);
      /* As the Go wrapper and Codex's print it. */
      if (a.reason && *a.reason)
	{
	  struct buf m = { 0 };
	  buf_puts (&m, "Execution denied: ");
	  buf_puts (&m, a.reason);
	  buf_put (&m, "\n", 1);
	  write (2, m.s, m.len);
	  free (m.s);
	}
      else
	write (2, "Execution denied\n", 17);
      reported = 1;
      return (EX_DENIED);
    case A_ESCALATE:
      if (b.lossy)
	{
	  snprintf (why, sizeof (why), "the program path or an argument is not valid UTF-8 and cannot be sent to the server unchanged; refusing to escalate it");
	  goto failed;
	}
      escalate (conn);
      goto failed;
    default:
      break;
    }
  snprintf (why, sizeof (why), "no decision from the execgate server");
failed:
  close (conn);
  buf_free (&b);
  return refuse (command);
}
