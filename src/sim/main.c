/* gcsim: a local emulator of the slice of the Genesys Cloud Platform API that gcmsg uses.
 * See docs/gcsim.1 and docs/gcsim-scenarios.md. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ulfius.h>

#include "context.h"
#include "media.h"
#include "scenario.h"
#include "server.h"
#include "state.h"

#define GCSIM_VERSION "0.1.0"
#define MAX_PEM (1024 * 1024)

static const char USAGE[] =
    "usage: gcsim --scenario FILE [--listen HOST:PORT] [--port-file F] [--request-log F]\n"
    "             [--seed N] [--latency-ms N] [--tls-cert F --tls-key F] [--quiet]\n"
    "\n"
    "A local emulator of the Genesys Cloud Platform API subset gcmsg uses.\n"
    "\n"
    "  --listen HOST:PORT   IPv4 address and port to listen on (default 127.0.0.1:0, 0 = a free port)\n"
    "  --scenario FILE      the scenario (JSON) that seeds the org (required)\n"
    "  --port-file F        write the port to F once listening\n"
    "  --request-log F      append every request as one JSON line to F (Authorization redacted)\n"
    "  --seed N             seed for generated ids, tokens and fault draws (default: from time and pid)\n"
    "  --latency-ms N       every /oauth/ and /api/v2/ request waits N ms (0 to 60000) before it is\n"
    "                       answered; wins over the scenario's limits.latencyMs (default: that, or 0)\n"
    "  --tls-cert F         PEM certificate: serve HTTPS (needs --tls-key)\n"
    "  --tls-key F          PEM private key\n"
    "  --quiet              no per-request lines on stderr\n"
    "  --help, --version\n"
    "\n"
    "Prints the base URL on stdout as its first line; stops cleanly on SIGINT/SIGTERM.\n"
    "Exit codes: 0 ok, 1 internal error, 2 usage or bad scenario.\n";

typedef struct options {
  const char *listen, *scenario, *port_file, *request_log, *tls_cert, *tls_key;
  unsigned long long seed;
  int has_seed, quiet;
  long latency_ms; /* -1: not given */
} options;

static int usage_error(const char *fmt, const char *arg) {
  fprintf(stderr, "gcsim: ");
  fprintf(stderr, fmt, arg);
  fprintf(stderr, " (see gcsim --help)\n");
  return 2;
}

static int parse_options(int argc, char **argv, options *o) {
  static const struct option longopts[] = {
      {"listen", required_argument, NULL, 'l'},      {"scenario", required_argument, NULL, 's'},
      {"port-file", required_argument, NULL, 'p'},   {"request-log", required_argument, NULL, 'r'},
      {"seed", required_argument, NULL, 'S'},        {"tls-cert", required_argument, NULL, 'c'},
      {"tls-key", required_argument, NULL, 'k'},     {"quiet", no_argument, NULL, 'q'},
      {"help", no_argument, NULL, 'h'},              {"version", no_argument, NULL, 'V'},
      {"latency-ms", required_argument, NULL, 'L'},  {NULL, 0, NULL, 0},
  };
  memset(o, 0, sizeof *o);
  o->listen = "127.0.0.1:0";
  o->latency_ms = -1;
  opterr = 0;
  int ch;
  while ((ch = getopt_long(argc, argv, ":q", longopts, NULL)) != -1) {
    switch (ch) {
    case 'l': o->listen = optarg; break;
    case 's': o->scenario = optarg; break;
    case 'p': o->port_file = optarg; break;
    case 'r': o->request_log = optarg; break;
    case 'c': o->tls_cert = optarg; break;
    case 'k': o->tls_key = optarg; break;
    case 'q': o->quiet = 1; break;
    case 'S': {
      char *end;
      errno = 0;
      o->seed = strtoull(optarg, &end, 10);
      if (errno || *optarg == '\0' || *end != '\0' || *optarg == '-')
        return usage_error("--seed needs a non-negative integer, got '%s'", optarg);
      o->has_seed = 1;
      break;
    }
    case 'L': {
      char *end;
      errno = 0;
      long v = strtol(optarg, &end, 10);
      if (errno || *optarg == '\0' || *end != '\0' || v < 0 || v > SIM_MAX_LATENCY_MS)
        return usage_error("--latency-ms needs an integer from 0 to 60000, got '%s'", optarg);
      o->latency_ms = v;
      break;
    }
    case 'h': fputs(USAGE, stdout); return 0;
    case 'V': printf("gcsim %s\n", GCSIM_VERSION); return 0;
    case ':': return usage_error("%s needs a value", argv[optind - 1]);
    default: return usage_error("unknown option '%s'", argv[optind - 1]);
    }
  }
  if (optind < argc) return usage_error("unexpected argument '%s'", argv[optind]);
  if (o->scenario == NULL) return usage_error("%s", "--scenario FILE is required");
  if ((o->tls_cert == NULL) != (o->tls_key == NULL))
    return usage_error("%s", "--tls-cert and --tls-key go together");
  return -1;
}

static int parse_listen(const char *spec, struct sockaddr_in *addr) {
  char host[64];
  const char *colon = strrchr(spec, ':');
  if (colon == NULL || (size_t)(colon - spec) >= sizeof host || colon == spec) return -1;
  memcpy(host, spec, (size_t)(colon - spec));
  host[colon - spec] = '\0';
  if (strcmp(host, "localhost") == 0) strcpy(host, "127.0.0.1");
  char *end;
  errno = 0;
  long port = strtol(colon + 1, &end, 10);
  if (errno || colon[1] == '\0' || *end != '\0' || port < 0 || port > 65535) return -1;
  memset(addr, 0, sizeof *addr);
  addr->sin_family = AF_INET;
  addr->sin_port = htons((uint16_t)port);
  return inet_pton(AF_INET, host, &addr->sin_addr) == 1 ? 0 : -1;
}

static char *read_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) return NULL;
  char *buf = malloc(MAX_PEM + 1);
  size_t n = buf ? fread(buf, 1, MAX_PEM + 1, f) : 0;
  fclose(f);
  if (buf == NULL || n == 0 || n > MAX_PEM) {
    free(buf);
    return NULL;
  }
  buf[n] = '\0';
  return buf;
}

static int write_port_file(const char *path, unsigned port) {
  char tmp[4096];
  if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof tmp) return -1;
  FILE *f = fopen(tmp, "w");
  if (f == NULL) return -1;
  int bad = fprintf(f, "%u\n", port) < 0;
  bad |= fclose(f) != 0;
  if (bad || rename(tmp, path) != 0) {
    unlink(tmp);
    return -1;
  }
  return 0;
}

int main(int argc, char **argv) {
  options o;
  int rc = parse_options(argc, argv, &o);
  if (rc >= 0) return rc;

  struct sockaddr_in addr;
  if (parse_listen(o.listen, &addr) != 0)
    return usage_error("--listen needs an IPv4 HOST:PORT such as 127.0.0.1:0, got '%s'", o.listen);

  uint64_t seed = o.has_seed ? o.seed : ((uint64_t)sim_real_now_ms() << 16) ^ (uint64_t)getpid();
  sim_rng scenario_rng;
  sim_rng_seed(&scenario_rng, seed ^ 0x5CE7A110ULL);
  sim_verr err;
  json_t *scenario = sim_scenario_load_file(o.scenario, &scenario_rng, &err);
  if (scenario == NULL) {
    fprintf(stderr, "gcsim: %s: %s: %s\n", o.scenario, err.path, err.message);
    return 2;
  }

  char *cert = NULL, *key = NULL;
  if (o.tls_cert) {
    cert = read_file(o.tls_cert);
    key = read_file(o.tls_key);
    if (cert == NULL || key == NULL) {
      fprintf(stderr, "gcsim: cannot read %s (PEM, at most 1 MiB)\n", cert == NULL ? o.tls_cert : o.tls_key);
      free(cert);
      free(key);
      json_decref(scenario);
      return 2;
    }
  }

  static sim_state st;
  if (sim_state_init(&st, scenario, seed, o.latency_ms) != 0) {
    fprintf(stderr, "gcsim: out of memory\n");
    json_decref(scenario);
    return 1;
  }
  json_decref(scenario);
  st.quiet = o.quiet;
  if (o.request_log) {
    st.request_log = fopen(o.request_log, "a");
    /* lines go into this buffer under the state lock and out by a flush without it (reqlog.h) */
    if (st.request_log) setvbuf(st.request_log, NULL, _IOFBF, 1 << 20);
    if (st.request_log == NULL) {
      fprintf(stderr, "gcsim: cannot open --request-log %s: %s\n", o.request_log, strerror(errno));
      sim_state_free(&st);
      free(cert);
      free(key);
      return 2;
    }
  }

  /* Signals are taken by sigwait in this thread only: block them before any thread starts. */
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &sigs, NULL);
  signal(SIGPIPE, SIG_IGN);

  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  socklen_t alen = sizeof addr;
  if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
      bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(fd, SOMAXCONN) != 0 ||
      getsockname(fd, (struct sockaddr *)&addr, &alen) != 0) {
    fprintf(stderr, "gcsim: cannot listen on %s: %s\n", o.listen, strerror(errno));
    if (fd >= 0) close(fd);
    sim_state_free(&st);
    free(cert);
    free(key);
    return 1;
  }
  unsigned port = ntohs(addr.sin_port);
  char host[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &addr.sin_addr, host, sizeof host);
  snprintf(st.base_url, sizeof st.base_url, "%s://%s:%u", cert ? "https" : "http", host, port);

  struct _u_instance instance;
  if (ulfius_init_instance(&instance, port ? port : 1, &addr, NULL) != U_OK) {
    fprintf(stderr, "gcsim: cannot initialise the HTTP server\n");
    close(fd);
    sim_state_free(&st);
    free(cert);
    free(key);
    return 1;
  }
  instance.allowed_post_processor = U_POST_PROCESS_NONE;
  /* uploads may be up to the largest limits.mediaMaxBytes; every other body above SIM_MAX_BODY is
   * refused with 413 by the dispatcher */
  instance.max_post_body_size = SIM_MEDIA_MAX_BYTES_CAP + 1;
  instance.check_utf8 = 0;
  ulfius_set_default_endpoint(&instance, sim_dispatch, &st);

  struct MHD_OptionItem ops[6];
  size_t n = 0;
  ops[n++] = (struct MHD_OptionItem){MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)mhd_request_completed, NULL};
  ops[n++] = (struct MHD_OptionItem){MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)sim_uri_logger, NULL};
  ops[n++] = (struct MHD_OptionItem){MHD_OPTION_LISTEN_SOCKET, fd, NULL};
  /* poll(), not select(): a connection's socket may be numbered above FD_SETSIZE (1024) when many
   * clients are connected at once (gcmsg bulk, benchmarks) */
  unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ERROR_LOG;
  if (cert) {
    flags |= MHD_USE_TLS;
    ops[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, key};
    ops[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, cert};
  }
  ops[n++] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
  if (ulfius_start_framework_with_mhd_options(&instance, flags, ops) != U_OK) {
    fprintf(stderr, "gcsim: cannot start the HTTP server%s\n", cert ? " (check the TLS certificate and key)" : "");
    ulfius_clean_instance(&instance);
    close(fd);
    sim_state_free(&st);
    free(cert);
    free(key);
    return 1;
  }

  printf("%s\n", st.base_url);
  fflush(stdout);
  rc = 0;
  if (o.port_file && write_port_file(o.port_file, port) != 0) {
    fprintf(stderr, "gcsim: cannot write --port-file %s: %s\n", o.port_file, strerror(errno));
    rc = 1;
  }
  if (!o.quiet) fprintf(stderr, "gcsim: serving %s at %s\n", o.scenario, st.base_url);

  if (rc == 0) {
    int sig = 0;
    while (sigwait(&sigs, &sig) != 0) {
    }
    if (!o.quiet) fprintf(stderr, "gcsim: stopping (%s)\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
  }
  sim_state_stop(&st); /* wakes requests waiting out a latency fault */
  ulfius_stop_framework(&instance);
  ulfius_clean_instance(&instance);
  sim_state_free(&st);
  if (key) {
    memset(key, 0, strlen(key));
    free(key);
  }
  free(cert);
  return rc;
}
