// reads-floor: the client-side floor of the concurrent-reads benchmark (docs/benchmarks.md,
// item 6): N Properties.Get of NetworkManager's Version on one libdbus connection to the system
// bus, first all sent at once and their replies collected (pipelined), then one at a time
// (dbus_connection_send_with_reply_and_block). No threads, no allocation beyond libdbus's own.
//
//   reads-floor N      prints {"count": N, "concurrent_ms": [..], "sequential_ms": [..]}
//
// Built by scripts/bench: cc -O2 reads-floor.c $(pkg-config --cflags --libs dbus-1)
#include <dbus/dbus.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static DBusMessage *get_version(void) {
    DBusMessage *m = dbus_message_new_method_call("org.freedesktop.NetworkManager", "/org/freedesktop/NetworkManager",
                                                  "org.freedesktop.DBus.Properties", "Get");
    const char *interface = "org.freedesktop.NetworkManager", *property = "Version";
    dbus_message_append_args(m, DBUS_TYPE_STRING, &interface, DBUS_TYPE_STRING, &property, DBUS_TYPE_INVALID);
    return m;
}

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 1000;
    DBusError error;
    dbus_error_init(&error);
    DBusConnection *c = dbus_bus_get_private(DBUS_BUS_SYSTEM, &error);
    if (!c) { fprintf(stderr, "reads-floor: %s\n", error.message); return 1; }
    dbus_connection_set_exit_on_disconnect(c, FALSE);

    DBusMessage *m = get_version();  // warm-up
    DBusMessage *reply = dbus_connection_send_with_reply_and_block(c, m, 25000, &error);
    if (!reply) { fprintf(stderr, "reads-floor: %s\n", error.message); return 1; }
    dbus_message_unref(reply);
    dbus_message_unref(m);

    double start = now_ms();
    for (int i = 0; i < n; i++) {
        m = get_version();
        dbus_connection_send(c, m, NULL);
        dbus_message_unref(m);
    }
    int replies = 0;
    while (replies < n) {
        if (!dbus_connection_read_write(c, -1)) { fprintf(stderr, "reads-floor: disconnected\n"); return 1; }
        while ((reply = dbus_connection_pop_message(c)) != NULL) {
            if (dbus_message_get_type(reply) == DBUS_MESSAGE_TYPE_METHOD_RETURN) replies++;
            else if (dbus_message_get_type(reply) == DBUS_MESSAGE_TYPE_ERROR) { fprintf(stderr, "reads-floor: error reply\n"); return 1; }
            dbus_message_unref(reply);
        }
    }
    double concurrent = now_ms() - start;

    start = now_ms();
    for (int i = 0; i < n; i++) {
        m = get_version();
        reply = dbus_connection_send_with_reply_and_block(c, m, 25000, &error);
        if (!reply) { fprintf(stderr, "reads-floor: %s\n", error.message); return 1; }
        dbus_message_unref(reply);
        dbus_message_unref(m);
    }
    double sequential = now_ms() - start;
    printf("{\"count\": %d, \"concurrent_ms\": [%.3f], \"sequential_ms\": [%.3f]}\n", n, concurrent, sequential);
    dbus_connection_close(c);
    dbus_connection_unref(c);
    return 0;
}
