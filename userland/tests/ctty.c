/*
 * ctty: the console as the controlling terminal of a new session, as an init does for the
 * shell it starts (rootfs-init, `cargo xtask run --rootfs`): after setsid() the session has
 * no terminal (TIOCGSID: ENOTTY), TIOCSCTTY with 1 (root may take a terminal another
 * session holds) gives it the console with the caller's group in the foreground, a member
 * of the session that does not lead it gets EPERM, and TIOCNOTTY gives the terminal up
 * again (its SIGHUP to the foreground group ignored here).
 */
#include "check.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

static int in_new_session(void)
{
    int fd = open("/dev/console", O_RDWR | O_NOCTTY);
    REQUIRE("open /dev/console", fd >= 0);
    pid_t me = getpid();
    CHECK_EQ("setsid makes a session", setsid(), me);
    pid_t sid = -1;
    CHECK_ERR("a new session has no terminal: TIOCGSID", ioctl(fd, TIOCGSID, &sid), ENOTTY);

    pid_t member = fork();
    if (member == 0) {
        /* In the session, not its leader. */
        _exit(ioctl(fd, TIOCSCTTY, 1) == -1 && errno == EPERM ? 0 : 1);
    }
    int status;
    waitpid(member, &status, 0);
    CHECK("TIOCSCTTY by a member that does not lead the session -> EPERM",
          WIFEXITED(status) && WEXITSTATUS(status) == 0);

    CHECK_OK("TIOCSCTTY 1 takes the console", ioctl(fd, TIOCSCTTY, 1));
    CHECK_OK("TIOCGSID", ioctl(fd, TIOCGSID, &sid));
    CHECK_EQ("the console's session is the caller's", sid, me);
    CHECK_EQ("the caller's group is in the foreground", tcgetpgrp(fd), me);
    CHECK_OK("TIOCSCTTY again: it is already ours", ioctl(fd, TIOCSCTTY, 0));

    signal(SIGHUP, SIG_IGN);
    CHECK_OK("TIOCNOTTY gives it up", ioctl(fd, TIOCNOTTY));
    CHECK_ERR("after TIOCNOTTY: TIOCGSID", ioctl(fd, TIOCGSID, &sid), ENOTTY);
    close(fd);
    return check_exit();
}

int main(void)
{
    pid_t pid = fork();
    if (pid == 0)
        _exit(in_new_session());
    int status;
    REQUIRE("waitpid", waitpid(pid, &status, 0) == pid);
    CHECK("the session's checks all passed", WIFEXITED(status) && WEXITSTATUS(status) == 0);
    return check_exit();
}
