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

/// XFixesCursorImage stores ARGB pixels as `unsigned long` (64-bit on LP64); reading element i
/// through a typed accessor keeps that width detail out of Swift.
static inline unsigned int cx11_cursor_pixel(const XFixesCursorImage *image, int index) {
    return (unsigned int)image->pixels[index];
}

/// Reads the event type and, for damage/randr events, the parts Swift needs; XEvent is a C union.
static inline int cx11_event_type(const XEvent *event) { return event->type; }

#endif
