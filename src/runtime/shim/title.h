/* The name a process shows in /proc/<pid>/cmdline and comm. The container's init is a
 * fork of the shim, whose command line names host paths the container should not see. */
#ifndef STACK_SHIM_TITLE_H
#define STACK_SHIM_TITLE_H

/* Remembers where argv lives; call first thing in main. */
void title_init(int argc, char **argv);
/* Overwrites the remembered argv area (never past it) and the thread name. */
void title_set(const char *title);

#endif
