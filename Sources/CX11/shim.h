#ifndef CX11_SHIM_H
#define CX11_SHIM_H

#include <X11/Xlib.h>
#include <X11/Xutil.h>
#include <X11/Xatom.h>
#include <X11/extensions/XShm.h>
#include <X11/extensions/Xdamage.h>
#include <X11/extensions/Xfixes.h>
#include <X11/extensions/Xrandr.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <string.h>
#include <stdlib.h>

/// XDestroyImage is a macro over a function pointer in the XImage; Swift cannot call it.
static inline void cx11_destroy_image(XImage *image) { XDestroyImage(image); }

/// DefaultScreen/RootWindow/DefaultVisual/DefaultDepth are macros over Display's private struct.
static inline int cx11_default_screen(Display *dpy) { return DefaultScreen(dpy); }
static inline Window cx11_root_window(Display *dpy) { return RootWindow(dpy, DefaultScreen(dpy)); }
static inline Visual *cx11_default_visual(Display *dpy) { return DefaultVisual(dpy, DefaultScreen(dpy)); }
static inline int cx11_default_depth(Display *dpy) { return DefaultDepth(dpy, DefaultScreen(dpy)); }
static inline GC cx11_default_gc(Display *dpy) { return DefaultGC(dpy, DefaultScreen(dpy)); }
static inline int cx11_connection_number(Display *dpy) { return ConnectionNumber(dpy); }
static inline unsigned long cx11_all_planes(void) { return AllPlanes; }

/// XGetGeometry needs seven out-parameters; callers only want the root window's current size.
static inline void cx11_root_size(Display *dpy, unsigned int *width, unsigned int *height) {
    Window root;
    int x, y;
    unsigned int border, depth;
    XGetGeometry(dpy, RootWindow(dpy, DefaultScreen(dpy)), &root, &x, &y, width, height, &border, &depth);
}

/// Xlib's default error handler calls exit(); a recorder must never take the process down because a
/// request failed (e.g. XShmAttach on a remote display). This handler records the error code instead.
/// Error handlers are process-wide in Xlib, so the trap is too; the code is thread-local because each
/// display connection lives on exactly one thread in this program.
static __thread int cx11_last_error_code = 0;
static inline int cx11_error_trap(Display *dpy, XErrorEvent *event) {
    (void)dpy;
    cx11_last_error_code = event->error_code;
    return 0;
}
static inline void cx11_install_error_trap(void) { XSetErrorHandler(cx11_error_trap); }
/// Returns the last X error code seen on this thread (0 = none) and clears it.
static inline int cx11_take_last_error(void) {
    int code = cx11_last_error_code;
    cx11_last_error_code = 0;
    return code;
}

/// Xlib's default I/O error handler prints and calls exit(1) when the server goes away (user logged
/// out, X restarted). Ours only records it; with libX11 >= 1.7 the exit handler may then return too,
/// so the capture loop sees the flag, finishes the segment in progress and reports the loss.
static volatile int cx11_io_error_seen = 0;
static inline int cx11_io_error_handler(Display *dpy) {
    (void)dpy;
    cx11_io_error_seen = 1;
    return 0;
}
static inline void cx11_io_exit_handler(Display *dpy, void *user_data) {
    (void)dpy; (void)user_data;
    cx11_io_error_seen = 1;
}
static inline void cx11_install_io_error_exit_handler(Display *dpy) {
    XSetIOErrorHandler(cx11_io_error_handler);
    XSetIOErrorExitHandler(dpy, cx11_io_exit_handler, NULL);
}
static inline int cx11_io_error_seen_flag(void) { return cx11_io_error_seen; }

/// XFixesCursorImage stores ARGB pixels as `unsigned long` (64-bit on LP64); reading element i
/// through a typed accessor keeps that width detail out of Swift.
static inline unsigned int cx11_cursor_pixel(const XFixesCursorImage *image, int index) {
    return (unsigned int)image->pixels[index];
}

/// Reads the event type and, for damage/randr events, the parts Swift needs; XEvent is a C union.
static inline int cx11_event_type(const XEvent *event) { return event->type; }

#endif
