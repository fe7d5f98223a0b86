#ifndef CX11_SHIMS_H
#define CX11_SHIMS_H

#include <X11/Xlib.h>

/// The X11 shims that keep state (Xlib's error handlers are process-wide): defined once, in
/// cx11_shims.c, rather than as `static` variables in a header, which would give every file that
/// includes the header its own copy.

/// Xlib's default error handler calls exit(); a recorder must never take the process down because a
/// request failed (e.g. XShmAttach on a remote display). This handler records the error code instead.
/// Error handlers are process-wide in Xlib, so the trap is too; the code is thread-local because each
/// display connection lives on exactly one thread in this program.
void cx11_install_error_trap(void);
/// Returns the last X error code seen on this thread (0 = none) and clears it.
int cx11_take_last_error(void);

/// Xlib's default I/O error handler prints and calls exit(1) when the server goes away (user logged
/// out, X restarted). Ours only records it; with libX11 >= 1.7 the exit handler may then return too,
/// so the capture loop sees the flag, finishes the segment in progress and reports the loss.
void cx11_install_io_error_exit_handler(Display *dpy);
int cx11_io_error_seen_flag(void);

#endif
