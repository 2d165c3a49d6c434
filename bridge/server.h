/* The bridge's control loop: reads requests from the host over the
 * control pipe, calls the plugin through the VST2 adapter, writes replies
 * and the plugin's events back.
 *
 * Frames are handled one at a time, in order, on the main thread, so
 * replies go out in request order.  Events the plugin raises while a
 * request is handled are written before that request's reply; events
 * from the plugin's other threads go out as soon as the loop wakes. */
#ifndef PB_BRIDGE_SERVER_H
#define PB_BRIDGE_SERVER_H

/* The architecture the hello announces. */
#if defined(__x86_64__)
#define PB_SERVER_ARCH "x86_64"
#elif defined(__i386__)
#define PB_SERVER_ARCH "i386"
#else
#error "plugbox-bridge is built for x86_64 or i386 only"
#endif

/* Exit statuses of the bridge process. */
enum
{
  PB_SERVER_EXIT_OK = 0,       /* CLOSE handled, or the host went away */
  PB_SERVER_EXIT_SETUP = 1,    /* could not start (fds, libuv, parent) */
  PB_SERVER_EXIT_USAGE = 2,    /* bad command line */
  PB_SERVER_EXIT_PROTOCOL = 3, /* the host sent a malformed frame */
  PB_SERVER_EXIT_NOMEM = 4,    /* out of memory in the bridge itself */
};

/** Say hello on `control_fd`, then serve requests until CLOSE has been
 *  answered or the host closes the pipe; the process exits from inside
 *  then, without unloading or calling the plugin again.  Returns (a
 *  PB_SERVER_EXIT_* status) only when setting up fails.  [main-thread] */
int pb_server_run(int control_fd);

#endif /* PB_BRIDGE_SERVER_H */
