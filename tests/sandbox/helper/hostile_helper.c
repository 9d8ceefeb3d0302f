/* Runs one hostile attempt inside a jail and prints what happened as "name=errno-name" lines.
 * Built static and without sanitizers so that it runs in the jail's minimal root under any
 * rlimit. Exit status 0 unless stated per mode. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/io_uring.h>
#include <linux/keyctl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

static void report(const char* what, long rc) {
  printf("%s=%s\n", what, rc < 0 ? strerrorname_np(errno) : "OK");
  fflush(stdout);
}

static int ids(void) {
  printf("uid=%d euid=%d gid=%d\n", getuid(), geteuid(), getgid());
  FILE* f = fopen("/proc/self/status", "r");
  char line[256];
  while (f && fgets(line, sizeof line, f))
    if (!strncmp(line, "Cap", 3) || !strncmp(line, "NoNewPrivs", 10) || !strncmp(line, "Seccomp:", 8)) fputs(line, stdout);
  printf("pid=%d\n", getpid());
  return 0;
}

static int i386_syscall(void) {
  long ret;
  /* getpid through the 32-bit entry point: a foreign architecture for the filter. */
  __asm__ volatile("int $0x80" : "=a"(ret) : "a"(20) : "memory");
  printf("i386 survived %ld\n", ret);
  return 0;
}

static int x32_syscall(void) {
  long ret = syscall(0x40000000 | SYS_getpid);
  printf("x32 survived %ld\n", ret);
  return 0;
}

static int tiocsti(void) {
  char c = 'x';
  report("tiocsti", ioctl(0, TIOCSTI, &c));
  report("tiocsti_high_bits", syscall(SYS_ioctl, 0, (1UL << 32) | TIOCSTI, &c));
  report("tioclinux", syscall(SYS_ioctl, 0, TIOCLINUX, &c));
  return 0;
}

static int privileged(void) {
  report("mount", mount("tmpfs", "/tmp", "tmpfs", 0, NULL));
  report("unshare", unshare(CLONE_NEWUSER));
  report("setns", syscall(SYS_setns, 0, 0));
  report("ptrace", ptrace(PTRACE_TRACEME, 0, NULL, NULL));
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  report("bpf", syscall(SYS_bpf, BPF_MAP_CREATE, &attr, sizeof attr));
  report("keyctl", syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0));
  report("perf_event_open", syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0));
  report("clone_newuser", syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0));
  struct { uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls; } args = {0};
  args.exit_signal = SIGCHLD;
  report("clone3", syscall(SYS_clone3, &args, sizeof args));
  struct io_uring_params p;
  memset(&p, 0, sizeof p);
  report("io_uring_setup", syscall(SYS_io_uring_setup, 4, &p));
  report("socket_netlink", socket(AF_NETLINK, SOCK_RAW, 0));
  report("socket_packet", socket(AF_PACKET, SOCK_RAW, 0));
  report("socket_inet", socket(AF_INET, SOCK_STREAM, 0));
  report("socket_unix", socket(AF_UNIX, SOCK_STREAM, 0));
  report("kill_init", kill(1, SIGKILL));
  report("personality", syscall(SYS_personality, 0x0040000 /* ADDR_NO_RANDOMIZE */));
  return 0;
}

static int connect_to(const char* ip, int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) {
    report("connect", -1);
    return 0;
  }
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  inet_pton(AF_INET, ip, &a.sin_addr);
  report("connect", connect(fd, (struct sockaddr*)&a, sizeof a));
  return 0;
}

static int fork_bomb(void) {
  for (int i = 0; i < 100000; ++i) {
    pid_t p = fork();
    if (p == 0) {
      pause();
      _exit(0);
    }
    if (p < 0) {
      printf("fork failed after %d: %s\n", i, strerrorname_np(errno));
      return 1;
    }
  }
  return 0;
}

static int mem_bomb(void) {
  for (size_t total = 0;; total += 1 << 20) {
    char* p = malloc(1 << 20);
    if (!p) {
      printf("malloc failed after %zu MiB\n", total >> 20);
      return 1;
    }
    memset(p, 1, 1 << 20);
  }
}

static int fill(const char* path) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return report("open", -1), 1;
  static char buf[1 << 16];
  memset(buf, 'x', sizeof buf);
  signal(SIGXFSZ, SIG_IGN);
  for (long total = 0;; total += sizeof buf)
    if (write(fd, buf, sizeof buf) < 0) {
      printf("wrote %ld bytes then %s\n", total, strerrorname_np(errno));
      return 1;
    }
}

static int fds(void) {
  DIR* d = opendir("/proc/self/fd");
  struct dirent* e;
  while ((e = readdir(d)))
    if (e->d_name[0] != '.' && atoi(e->d_name) != dirfd(d)) printf("fd %s\n", e->d_name);
  return 0;
}

static int exec_true(void) {
  char* argv[] = {"/bin/true", NULL};
  execve("/bin/true", argv, NULL);
  report("execve", -1);
  return 0;
}

int main(int argc, char** argv) {
  const char* mode = argc > 1 ? argv[1] : "";
  if (!strcmp(mode, "ids")) return ids();
  if (!strcmp(mode, "i386")) return i386_syscall();
  if (!strcmp(mode, "x32")) return x32_syscall();
  if (!strcmp(mode, "tiocsti")) return tiocsti();
  if (!strcmp(mode, "privileged")) return privileged();
  if (!strcmp(mode, "connect") && argc > 3) return connect_to(argv[2], atoi(argv[3]));
  if (!strcmp(mode, "forkbomb")) return fork_bomb();
  if (!strcmp(mode, "membomb")) return mem_bomb();
  if (!strcmp(mode, "fill") && argc > 2) return fill(argv[2]);
  if (!strcmp(mode, "fds")) return fds();
  if (!strcmp(mode, "exec")) return exec_true();
  if (!strcmp(mode, "spin")) for (;;) {}
  fprintf(stderr, "usage: hostile_helper MODE\n");
  return 2;
}
