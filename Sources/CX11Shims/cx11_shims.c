#include "cx11_shims.h"

static _Thread_local int last_error_code = 0;
static volatile int io_error_seen = 0;

static int error_trap(Display *dpy, XErrorEvent *event) {
    (void)dpy;
    last_error_code = event->error_code;
    return 0;
}

void cx11_install_error_trap(void) { XSetErrorHandler(error_trap); }

int cx11_take_last_error(void) {
    int code = last_error_code;
    last_error_code = 0;
    return code;
}

static int io_error_handler(Display *dpy) {
    (void)dpy;
    io_error_seen = 1;
    return 0;
}

static void io_exit_handler(Display *dpy, void *user_data) {
    (void)dpy;
    (void)user_data;
    io_error_seen = 1;
}

void cx11_install_io_error_exit_handler(Display *dpy) {
    XSetIOErrorHandler(io_error_handler);
    XSetIOErrorExitHandler(dpy, io_exit_handler, NULL);
}

int cx11_io_error_seen_flag(void) { return io_error_seen; }
