/* Building the container's filesystem view: spec mounts, /dev, pivot_root, masks. */
#ifndef STACK_SHIM_ROOTFS_H
#define STACK_SHIM_ROOTFS_H

#include <limits.h>

#include "spec.h"

/* Resolves `path` inside `root` the way the container will see it: symlinks are
 * followed but never leave root, `..` stops at root. Missing components are made
 * (directories, or a file for the last one when create_file is set) when create is set. */
int resolve_in_root(const char *root, const char *path, int create, int create_file, char out[PATH_MAX]);

int make_propagation_private(const char *propagation);
int mount_rootfs(const struct spec *s);
int pivot_into(const char *rootfs);
int apply_sysctls(const struct spec *s);
int apply_readonly_paths(const struct spec *s);
int apply_masked_paths(const struct spec *s);
int remount_root_readonly(void);

#endif
