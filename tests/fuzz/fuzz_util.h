/* fuzz_util.h - what the file-reading fuzz targets share: the input put in
 * an in-memory file (memfd) whose /proc/self/fd path the readers open like
 * any file. Static inline: each target is its own program.
 *
 * Deliberately not here: checks on what a reader returns (each target's). */
#ifndef ATTNSCOPE_FUZZ_UTIL_H
#define ATTNSCOPE_FUZZ_UTIL_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

/* Write data (size bytes) to a new memfd named name and put its path in
 * path (cap bytes). Returns the fd (the caller closes it), or -1 when the
 * file cannot be made or written (the target then skips the input). */
static inline int fuzz_memfile(const char *name, const uint8_t *data, size_t size, char *path,
                               size_t cap)
{
    int fd = memfd_create(name, 0);
    if (fd < 0) return -1;
    if (size && write(fd, data, size) != (ssize_t)size) {
        close(fd);
        return -1;
    }
    snprintf(path, cap, "/proc/self/fd/%d", fd);
    return fd;
}

#endif
