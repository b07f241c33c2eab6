/*
 * ipc: System V IPC against Linux, raw system calls: shared memory (ipc-shm.h), semaphores
 * (ipc-sem.h) and message queues (ipc-msg.h). One program rather than three: each glibc
 * build is a static binary of about 0.7 MB, and Linux's reference boot of conform.cpio
 * (128 MiB) ran short of memory with three more of them.
 */
#include "sysv.h"
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>

#include "ipc-msg.h"
#include "ipc-sem.h"
#include "ipc-shm.h"

int main(void)
{
    shm_tests();
    sem_tests();
    msg_tests();
    return check_exit();
}
