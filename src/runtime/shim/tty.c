/* Pty pairs for `exec -t` and the relay between the master and the caller's stdio, and
 * the terminal of a container's pid 1 (process.terminal), whose master the supervisor keeps. */
#include "fdio.h"
#include "tty.h"
#include "report.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

static volatile sig_atomic_t window_changed;
static int size_fd = -1;

static void note_window_change(int sig)
{
	(void)sig;
	window_changed = 1;
}

int tty_set_size_file(const char *path)
{
	size_fd = open(path, O_RDONLY | O_CLOEXEC);
	return size_fd < 0 ? fail("tty", path, errno) : 0;
}

/* The last "ROWS COLS" written to a size file. */
static int read_size_file(int fd, struct winsize *ws)
{
	char text[64];
	unsigned rows, cols;
	ssize_t n;

	if (fd < 0 || (n = pread(fd, text, sizeof text - 1, 0)) <= 0)
		return -1;
	text[n] = '\0';
	if (sscanf(text, "%u %u", &rows, &cols) != 2 || rows == 0 || cols == 0 || rows > 0xffff || cols > 0xffff)
		return -1;
	memset(ws, 0, sizeof *ws);
	ws->ws_row = (unsigned short)rows;
	ws->ws_col = (unsigned short)cols;
	return 0;
}

/* The size to give the container's terminal: the caller's own terminal when stdin is
 * one, else the size file (how a program without a terminal, such as the engine,
 * resizes: write the file, then send SIGWINCH). */
static int wanted_size(struct winsize *ws)
{
	if (isatty(0))
		return ioctl(0, TIOCGWINSZ, ws);
	return read_size_file(size_fd, ws);
}

int tty_resize_from_file(int master, const char *path)
{
	struct winsize ws;
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc;

	if (fd < 0)
		return fail("resize", path, errno);
	rc = read_size_file(fd, &ws);
	close(fd);
	if (rc < 0)
		return failf("resize", 0, "%s: expected \"ROWS COLS\"", path);
	/* The kernel sends SIGWINCH to the terminal's foreground process group. */
	if (ioctl(master, TIOCSWINSZ, &ws) < 0)
		return fail("resize", "set the window size", errno);
	return 0;
}

int tty_open(struct tty_pair *tty, unsigned short rows, unsigned short cols)
{
	struct winsize ws;

	tty->master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (tty->master < 0)
		return fail("tty", "open /dev/ptmx", errno);
	if (grantpt(tty->master) < 0 || unlockpt(tty->master) < 0)
		return fail("tty", "grantpt/unlockpt", errno);
	if (ptsname_r(tty->master, tty->slave_path, sizeof tty->slave_path) != 0)
		return fail("tty", "ptsname", errno);
	if (rows && cols) {
		memset(&ws, 0, sizeof ws);
		ws.ws_row = rows;
		ws.ws_col = cols;
	} else if (wanted_size(&ws) < 0) {
		return 0;
	}
	if (ioctl(tty->master, TIOCSWINSZ, &ws) < 0)
		return fail("tty", "set the window size", errno);
	return 0;
}

int tty_become_controlling(const struct tty_pair *tty)
{
	int slave;

	/* The container's pid 1 leads its session already (and setsid would fail there). */
	if (getsid(0) != getpid() && setsid() < 0)
		return fail("tty", "setsid", errno);
	slave = open(tty->slave_path, O_RDWR);
	if (slave < 0)
		return fail("tty", tty->slave_path, errno);
	if (ioctl(slave, TIOCSCTTY, 0) < 0)
		return fail("tty", "make the controlling terminal", errno);
	if (dup2(slave, 0) < 0 || dup2(slave, 1) < 0 || dup2(slave, 2) < 0)
		return fail("tty", "dup2 the terminal onto 0, 1, 2", errno);
	if (slave > 2)
		close(slave);
	close(tty->master);
	return 0;
}

/* As runc does with its console socket: the pair is made inside the container so the
 * slave is /dev/pts/N of the container's own devpts, and only the master leaves. */
static int send_master(int console_socket, int master)
{
	char byte = 'm';
	struct iovec iov = { &byte, 1 };
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} control;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf, .msg_controllen = sizeof control.buf };
	struct cmsghdr *cmsg;

	memset(control.buf, 0, sizeof control.buf);
	cmsg = CMSG_FIRSTHDR(&msg);
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cmsg), &master, sizeof(int));
	while (sendmsg(console_socket, &msg, MSG_NOSIGNAL) < 0)
		if (errno != EINTR)
			return fail("terminal", "send the master to the shim", errno);
	return 0;
}

/* Programs that write to /dev/console (inits, some daemons) reach the same terminal,
 * as under runc and Docker. */
static int bind_console(const char *slave_path)
{
	int fd = open("/dev/console", O_RDONLY | O_CREAT | O_NOCTTY | O_CLOEXEC, 0600);

	if (fd < 0)
		return fail("terminal", "create /dev/console", errno);
	close(fd);
	if (mount(slave_path, "/dev/console", NULL, MS_BIND, NULL) < 0)
		return failf("terminal", errno, "bind %s onto /dev/console", slave_path);
	return 0;
}

int tty_attach_console(int console_socket, unsigned short rows, unsigned short cols, uid_t uid)
{
	struct tty_pair tty = { -1, "" };

	if (tty_open(&tty, rows ? rows : TTY_DEFAULT_ROWS, cols ? cols : TTY_DEFAULT_COLS) < 0 ||
	    bind_console(tty.slave_path) < 0 ||
	    send_master(console_socket, tty.master) < 0 ||
	    tty_become_controlling(&tty) < 0)
		return -1;
	/* The process may run as another user; its terminal is its own, as runc makes it. */
	if (fchown(0, uid, (gid_t)-1) < 0)
		return failf("terminal", errno, "chown %s to uid %u", tty.slave_path, (unsigned)uid);
	return 0;
}

int tty_receive_master(int console_socket)
{
	char byte;
	struct iovec iov = { &byte, 1 };
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} control;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf, .msg_controllen = sizeof control.buf };
	struct cmsghdr *cmsg;
	ssize_t n;
	int master;

	while ((n = recvmsg(console_socket, &msg, MSG_CMSG_CLOEXEC)) < 0)
		if (errno != EINTR)
			return fail("terminal", "receive the master from the container", errno);
	cmsg = CMSG_FIRSTHDR(&msg);
	if (n != 1 || !cmsg || cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS || cmsg->cmsg_len != CMSG_LEN(sizeof(int)))
		return fail("terminal", "the container sent no terminal master", EPROTO);
	memcpy(&master, CMSG_DATA(cmsg), sizeof(int));
	return master;
}

int tty_relay(const struct tty_pair *tty, pid_t child)
{
	struct termios saved, raw;
	struct sigaction sa;
	struct winsize ws;
	int raw_set = 0, stdin_open = 1, status = 0, exited = 0;
	char buf[8192];

	/* The caller's terminal goes raw so keys (^C, ^D, arrows) reach the container's
	 * line discipline untouched; it is restored before returning. */
	if (isatty(0) && tcgetattr(0, &saved) == 0) {
		raw = saved;
		cfmakeraw(&raw);
		raw_set = tcsetattr(0, TCSANOW, &raw) == 0;
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = note_window_change;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGWINCH, &sa, NULL);

	for (;;) {
		struct pollfd fds[2] = { { tty->master, POLLIN, 0 }, { 0, POLLIN, 0 } };
		int ready;

		if (window_changed) {
			window_changed = 0;
			if (wanted_size(&ws) == 0)
				ioctl(tty->master, TIOCSWINSZ, &ws);
		}
		if (!exited && waitpid(child, &status, WNOHANG) == child)
			exited = 1;
		/* Once the child is gone, only what is already buffered is left to copy. */
		ready = poll(fds, stdin_open ? 2 : 1, exited ? 0 : 100);
		if (ready < 0 && errno == EINTR)
			continue;
		if (ready < 0)
			break;
		if (ready == 0) {
			if (exited)
				break;
			continue;
		}
		if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t n = read(tty->master, buf, sizeof buf);

			/* EIO: every slave fd is closed, the session is over. */
			if (n <= 0 && !(n < 0 && errno == EINTR)) {
				if (!exited)
					fds[0].fd = -1;
				if (exited || n == 0 || errno == EIO) {
					if (!exited && waitpid(child, &status, 0) == child)
						exited = 1;
					break;
				}
			} else if (n > 0 && write_all(1, buf, (size_t)n) < 0) {
				break;
			}
		}
		if (stdin_open && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) {
			ssize_t n = read(0, buf, sizeof buf);

			if (n <= 0 && !(n < 0 && errno == EINTR))
				stdin_open = 0;
			else if (n > 0)
				write_all(tty->master, buf, (size_t)n);
		}
	}
	while (!exited) {
		if (waitpid(child, &status, 0) == child)
			exited = 1;
		else if (errno != EINTR)
			break;
	}
	if (raw_set)
		tcsetattr(0, TCSANOW, &saved);
	return status;
}
