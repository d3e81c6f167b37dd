/*
 * hvflow lab stand-in client, native: the same protocol and behaviour as lab-tool.js (which see), for
 * every stand-in. Real tools start in milliseconds; Node takes 50-200 ms of CPU per start, and the
 * lab's cold read of 10,000 units (fleetctl cat) or a power-off of 500 hosts measured that instead of
 * hvflow. Built by lab/native-client.ts with the system's cc; without one the
 * lab falls back to lab-tool.js.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

extern char **environ;

struct buf { char *p; size_t n, cap; };

static void put(struct buf *b, const char *s, size_t n) {
  if (b->n + n + 1 > b->cap) {
    b->cap = (b->n + n + 1) * 2;
    b->p = realloc(b->p, b->cap);
    if (!b->p) { perror("lab-tool"); exit(255); }
  }
  memcpy(b->p + b->n, s, n);
  b->n += n;
}

/* A JSON string as JSON.stringify writes it: \" \\ \b \f \n \r \t, other control characters \u00XX. */
static void put_json(struct buf *b, const char *s) {
  put(b, "\"", 1);
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    char esc[8];
    switch (c) {
      case '"': put(b, "\\\"", 2); break;
      case '\\': put(b, "\\\\", 2); break;
      case '\b': put(b, "\\b", 2); break;
      case '\f': put(b, "\\f", 2); break;
      case '\n': put(b, "\\n", 2); break;
      case '\r': put(b, "\\r", 2); break;
      case '\t': put(b, "\\t", 2); break;
      default:
        if (c < 0x20) { snprintf(esc, sizeof esc, "\\u%04x", c); put(b, esc, 6); }
        else put(b, (const char *)&c, 1);
    }
  }
  put(b, "\"", 1);
}

static void write_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) { if (errno == EINTR) continue; exit(255); }
    p += w; n -= (size_t)w;
  }
}

static void put_utf8(struct buf *b, unsigned cp) {
  char u[4];
  if (cp < 0x80) { u[0] = (char)cp; put(b, u, 1); }
  else if (cp < 0x800) { u[0] = (char)(0xC0 | cp >> 6); u[1] = (char)(0x80 | (cp & 0x3F)); put(b, u, 2); }
  else if (cp < 0x10000) { u[0] = (char)(0xE0 | cp >> 12); u[1] = (char)(0x80 | (cp >> 6 & 0x3F)); u[2] = (char)(0x80 | (cp & 0x3F)); put(b, u, 3); }
  else {
    u[0] = (char)(0xF0 | cp >> 18); u[1] = (char)(0x80 | (cp >> 12 & 0x3F)); u[2] = (char)(0x80 | (cp >> 6 & 0x3F)); u[3] = (char)(0x80 | (cp & 0x3F));
    put(b, u, 4);
  }
}

static int hex4(const char *s, unsigned *v) {
  *v = 0;
  for (int i = 0; i < 4; i++) {
    char c = s[i];
    *v <<= 4;
    if (c >= '0' && c <= '9') *v |= (unsigned)(c - '0');
    else if (c >= 'a' && c <= 'f') *v |= (unsigned)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') *v |= (unsigned)(c - 'A' + 10);
    else return 0;
  }
  return 1;
}

/* Decodes the JSON string starting at s (after its opening quote) into out; returns the end, or NULL. */
static const char *get_json(const char *s, struct buf *out) {
  out->n = 0;
  for (;;) {
    char c = *s++;
    if (c == '\0') return NULL;
    if (c == '"') return s;
    if (c != '\\') { put(out, &c, 1); continue; }
    c = *s++;
    switch (c) {
      case 'b': put(out, "\b", 1); break;
      case 'f': put(out, "\f", 1); break;
      case 'n': put(out, "\n", 1); break;
      case 'r': put(out, "\r", 1); break;
      case 't': put(out, "\t", 1); break;
      case 'u': {
        unsigned cp, lo;
        if (!hex4(s, &cp)) return NULL;
        s += 4;
        if (cp >= 0xD800 && cp < 0xDC00 && s[0] == '\\' && s[1] == 'u' && hex4(s + 2, &lo) && lo >= 0xDC00 && lo < 0xE000) {
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          s += 6;
        } else if (cp >= 0xD800 && cp < 0xE000) cp = 0xFFFD; /* a lone surrogate: Node writes U+FFFD */
        put_utf8(out, cp);
        break;
      }
      case '\0': return NULL;
      default: put(out, &c, 1); /* \" \\ \/ */
    }
  }
}

int main(int argc, char **argv) {
  const char *tool = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
  const char *socket_path = getenv("HVFLOW_LAB_SOCKET");
  const char *host = getenv("HVFLOW_LAB_HOST");
  if (!socket_path || !host) {
    fprintf(stderr, "%s: not running inside an hvflow lab session (HVFLOW_LAB_SOCKET / HVFLOW_LAB_HOST unset)\n", tool);
    return 127;
  }
  struct buf req = {0};
  char cwd[4096];
  if (!getcwd(cwd, sizeof cwd)) strcpy(cwd, "/");
  put(&req, "{\"kind\":\"tool\",\"host\":", 22);
  put_json(&req, host);
  put(&req, ",\"argv\":[", 9);
  put_json(&req, tool);
  for (int i = 1; i < argc; i++) { put(&req, ",", 1); put_json(&req, argv[i]); }
  put(&req, "],\"cwd\":", 8);
  put_json(&req, cwd);
  put(&req, ",\"env\":{", 8);
  int first = 1;
  for (char **e = environ; *e; e++) {
    const char *eq = strchr(*e, '=');
    if (!eq) continue;
    size_t k = (size_t)(eq - *e);
    /* Only what the stand-ins need (etcdctl's settings, the BMC password for -E), as lab-tool.js. */
    int wanted = strncmp(*e, "ETCDCTL_", 8) == 0 || (k == 13 && strncmp(*e, "IPMI_PASSWORD", k) == 0) || (k == 17 && strncmp(*e, "IPMITOOL_PASSWORD", k) == 0);
    if (!wanted) continue;
    char *name = strndup(*e, k);
    if (!first) put(&req, ",", 1);
    first = 0;
    put_json(&req, name);
    put(&req, ":", 1);
    put_json(&req, eq + 1);
    free(name);
  }
  put(&req, "}}\n", 3);

  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  strncpy(addr.sun_path, socket_path, sizeof addr.sun_path - 1);
  /* The lab server's accept queue can fill when hundreds of hosts run a tool at the same instant
     (EAGAIN on a unix socket): the real tool has no such limit, so wait and connect again, 10 s at most. */
  int fd = -1;
  srand((unsigned)getpid()); /* not every client retrying at the same instants */
  for (int tries = 0;; tries++) {
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&addr, sizeof addr) == 0) break;
    int err = errno;
    if (fd >= 0) close(fd);
    if (err == EAGAIN && tries < 200) {
      usleep((useconds_t)(20000 + rand() % 80000));
      continue;
    }
    fprintf(stderr, "%s: lab server unreachable: %s\n", tool, strerror(err));
    return 255;
  }
  write_all(fd, req.p, req.n);

  /* Frames, one a line: {"o":"stdout"} {"e":"stderr"} {"x":code}. */
  struct buf in = {0}, text = {0};
  char chunk[65536];
  for (;;) {
    ssize_t r = read(fd, chunk, sizeof chunk);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    put(&in, chunk, (size_t)r);
    size_t start = 0;
    for (size_t i = 0; i < in.n; i++) {
      if (in.p[i] != '\n') continue;
      in.p[i] = '\0';
      const char *line = in.p + start;
      start = i + 1;
      if (strncmp(line, "{\"x\":", 5) == 0) return atoi(line + 5);
      int out_fd = strncmp(line, "{\"o\":\"", 6) == 0 ? 1 : strncmp(line, "{\"e\":\"", 6) == 0 ? 2 : -1;
      if (out_fd < 0 || !get_json(line + 6, &text)) {
        fprintf(stderr, "%s: lab server sent an unknown frame\n", tool);
        return 255;
      }
      write_all(out_fd, text.p, text.n);
    }
    memmove(in.p, in.p + start, in.n - start);
    in.n -= start;
  }
  fprintf(stderr, "%s: lab server closed the connection\n", tool);
  return 255;
}
