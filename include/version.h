/* version.h - the version of attnscope, for --version and the files it
 * writes (report.md).
 *
 * Deliberately not here: anything else. */
#ifndef ATTNSCOPE_VERSION_H
#define ATTNSCOPE_VERSION_H

#define ATTNSCOPE_VERSION "0.1.0"

#endif
